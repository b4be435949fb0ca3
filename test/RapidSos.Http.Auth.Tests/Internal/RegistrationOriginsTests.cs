using Microsoft.Extensions.Options;
using Moq;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

public class RegistrationOriginsTests
{
    private static readonly Uri First = new("https://api.rapidsos.com/v1/x");
    private static readonly Uri Second = new("https://edx.rapidsos.com/v1/x");

    [Test]
    public void OptionsChange_NewOriginsApplyAtOnce_ComputedOncePerChange()
    {
        var (changes, raise) = Changes(new RapidSosAuthOptions { BaseAddress = new Uri("https://api.rapidsos.com/") });
        using var origins = new RegistrationOrigins("a", changes);
        var before = origins.Current;

        raise(new RapidSosAuthOptions { BaseAddress = new Uri("https://edx.rapidsos.com/") }, "a");

        Assert.That(before.Matches(First), Is.True);
        Assert.That(origins.Current.Matches(Second), Is.True);
        Assert.That(origins.Current.Matches(First), Is.False);
        Assert.That(origins.Current, Is.SameAs(origins.Current), "read, not recomputed, per request");
    }

    [Test]
    public void OptionsChange_ToInvalidOrigins_KeepsTheLastValidOnesAndDoesNotThrow()
    {
        var (changes, raise) = Changes(new RapidSosAuthOptions { BaseAddress = new Uri("https://api.rapidsos.com/") });
        using var origins = new RegistrationOrigins("a", changes);

        Assert.DoesNotThrow(() => raise(new RapidSosAuthOptions { BaseAddress = new Uri("http://api.rapidsos.com/") }, "a"));
        Assert.That(origins.Current.Matches(First), Is.True);
    }

    [Test]
    public void Dispose_StopsFollowingTheOptions()
    {
        var (changes, raise) = Changes(new RapidSosAuthOptions { BaseAddress = new Uri("https://api.rapidsos.com/") });
        var origins = new RegistrationOrigins("a", changes);

        origins.Dispose();
        raise(new RapidSosAuthOptions { BaseAddress = new Uri("https://edx.rapidsos.com/") }, "a");

        Assert.That(origins.Current.Matches(First), Is.True);
    }

    private static (RapidSosOptionsChanges Changes, Action<RapidSosAuthOptions, string?> Raise) Changes(RapidSosAuthOptions initial)
    {
        Action<RapidSosAuthOptions, string?>? listener = null;
        var monitor = new Mock<IOptionsMonitor<RapidSosAuthOptions>>();
        monitor.Setup(m => m.Get(It.IsAny<string?>())).Returns(initial);
        monitor.Setup(m => m.OnChange(It.IsAny<Action<RapidSosAuthOptions, string?>>()))
            .Callback<Action<RapidSosAuthOptions, string?>>(l => listener = l)
            .Returns(Mock.Of<IDisposable>());
        return (new RapidSosOptionsChanges(monitor.Object), (o, n) => listener!(o, n));
    }
}
