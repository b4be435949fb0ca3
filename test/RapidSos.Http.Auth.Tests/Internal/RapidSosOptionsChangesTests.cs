using Microsoft.Extensions.Options;
using Moq;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

public class RapidSosOptionsChangesTests
{
    [Test]
    public void Dispatch_OneRegistrationChanges_OnlyItsListenerHears()
    {
        var (monitor, raise) = Monitor();
        using var changes = new RapidSosOptionsChanges(monitor.Object);
        var heard = new List<string>();
        using var a = changes.Subscribe("a", _ => heard.Add("a"));
        using var b = changes.Subscribe("b", _ => heard.Add("b"));

        raise(new RapidSosAuthOptions(), "b");

        Assert.That(heard, Is.EqualTo(new[] { "b" }));
        monitor.Verify(m => m.OnChange(It.IsAny<Action<RapidSosAuthOptions, string?>>()), Times.Once, "one subscription for the whole container");
    }

    [Test]
    public void Dispatch_DefaultRegistrationWithNullName_ReachesTheDefaultListener()
    {
        var (monitor, raise) = Monitor();
        using var changes = new RapidSosOptionsChanges(monitor.Object);
        RapidSosAuthOptions? received = null;
        using var subscription = changes.Subscribe(Options.DefaultName, o => received = o);
        var options = new RapidSosAuthOptions();

        raise(options, null);

        Assert.That(received, Is.SameAs(options));
    }

    [Test]
    public void Dispatch_TwoListenersOfOneRegistration_BothHearAndEachUnsubscribesAlone()
    {
        // The token provider and the allowed origins of one registration both follow its options.
        var (monitor, raise) = Monitor();
        using var changes = new RapidSosOptionsChanges(monitor.Object);
        var heard = new List<string>();
        var provider = changes.Subscribe("a", _ => heard.Add("provider"));
        using var origins = changes.Subscribe("a", _ => heard.Add("origins"));

        raise(new RapidSosAuthOptions(), "a");
        provider.Dispose();
        raise(new RapidSosAuthOptions(), "a");

        Assert.That(heard, Is.EqualTo(new[] { "provider", "origins", "origins" }));
    }

    [Test]
    public void Subscribe_Disposed_ListenerNoLongerHears()
    {
        var (monitor, raise) = Monitor();
        using var changes = new RapidSosOptionsChanges(monitor.Object);
        var heard = 0;
        var subscription = changes.Subscribe("a", _ => heard++);

        subscription.Dispose();
        raise(new RapidSosAuthOptions(), "a");

        Assert.That(heard, Is.Zero);
    }

    [Test]
    public void Dispatch_TwoThousandRegistrations_EachChangeCallsOneListener()
    {
        var (monitor, raise) = Monitor();
        using var changes = new RapidSosOptionsChanges(monitor.Object);
        var calls = 0;
        var subscriptions = Enumerable.Range(0, 2000).Select(i => changes.Subscribe($"agency-{i}", _ => calls++)).ToList();

        for (var i = 0; i < 2000; i++)
        {
            raise(new RapidSosAuthOptions(), $"agency-{i}");
        }

        Assert.That(calls, Is.EqualTo(2000), "a reload of every registration costs one call per registration, not 2,000 each");
        subscriptions.ForEach(s => s.Dispose());
    }

    private static (Mock<IOptionsMonitor<RapidSosAuthOptions>> Monitor, Action<RapidSosAuthOptions, string?> Raise) Monitor()
    {
        Action<RapidSosAuthOptions, string?>? listener = null;
        var monitor = new Mock<IOptionsMonitor<RapidSosAuthOptions>>();
        monitor.Setup(m => m.OnChange(It.IsAny<Action<RapidSosAuthOptions, string?>>()))
            .Callback<Action<RapidSosAuthOptions, string?>>(l => listener = l)
            .Returns(Mock.Of<IDisposable>());
        return (monitor, (options, name) => listener!(options, name));
    }
}
