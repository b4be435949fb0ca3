namespace RapidSos.Http.Auth.Testing.Tests;

public sealed class EmulatorFaultTests
{
    [TestCase(199)]
    [TestCase(600)]
    public void Factories_StatusOutOfRange_ThrowArgumentOutOfRange(int status)
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => EmulatorFault.Status(status, null), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => EmulatorFault.Detail(status, "x"), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => EmulatorFault.Fault(status, "x", "y"), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => EmulatorFault.OAuthError(status, "x"), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => EmulatorFault.Html(status), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => EmulatorFault.Empty(status), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public void Factories_NullText_ThrowArgumentNull()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => EmulatorFault.Status(500, "x", null!), Throws.ArgumentNullException);
            Assert.That(() => EmulatorFault.Detail(500, null!), Throws.ArgumentNullException);
            Assert.That(() => EmulatorFault.Fault(500, null!, "y"), Throws.ArgumentNullException);
            Assert.That(() => EmulatorFault.Fault(500, "x", null!), Throws.ArgumentNullException);
            Assert.That(() => EmulatorFault.OAuthError(500, null!), Throws.ArgumentNullException);
        });
    }

    [Test]
    public void Delays_Negative_ThrowArgumentOutOfRange()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => EmulatorFault.Stall(TimeSpan.FromSeconds(-2)), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => EmulatorFault.TooManyRequests(TimeSpan.FromSeconds(-1)), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => EmulatorFault.Empty(500).WithLatency(TimeSpan.FromSeconds(-1)), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => EmulatorFault.Empty(500).WithLatency(Timeout.InfiniteTimeSpan), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(EmulatorFault.Stall(Timeout.InfiniteTimeSpan), Is.Not.Null);
        });
    }

    [Test]
    public void WithLatency_Fault_ReturnsNewFaultAndLeavesOriginal()
    {
        var original = EmulatorFault.TooManyRequests();

        var delayed = original.WithLatency(TimeSpan.FromSeconds(2));

        Assert.Multiple(() =>
        {
            Assert.That(delayed, Is.Not.SameAs(original));
            Assert.That(original.ToString(), Is.EqualTo("TooManyRequests()"));
            Assert.That(delayed.ToString(), Is.EqualTo("TooManyRequests().WithLatency(00:00:02)"));
        });
    }

    [Test]
    public void WithRetryAfter_Fault_ReturnsNewFaultAndLeavesOriginal()
    {
        var original = EmulatorFault.Empty(503);

        var withHeader = original.WithRetryAfter(TimeSpan.FromSeconds(2)).WithLatency(TimeSpan.FromSeconds(1));

        Assert.Multiple(() =>
        {
            Assert.That(original.ToString(), Is.EqualTo("Empty(503)"));
            Assert.That(withHeader.ToString(), Is.EqualTo("Empty(503).WithRetryAfter(2s).WithLatency(00:00:01)"));
        });
    }

    [Test]
    public void WithRetryAfter_FaultWithoutAnswerOrNegativeDelay_Throws()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => EmulatorFault.ConnectionReset().WithRetryAfter(TimeSpan.FromSeconds(1)), Throws.InvalidOperationException);
            Assert.That(() => EmulatorFault.Stall(TimeSpan.FromSeconds(1)).WithRetryAfter(TimeSpan.FromSeconds(1)), Throws.InvalidOperationException);
            Assert.That(() => EmulatorFault.Empty(503).WithRetryAfter(TimeSpan.FromSeconds(-1)), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public void ToString_EachFactory_NamesIt()
    {
        Assert.Multiple(() =>
        {
            Assert.That(EmulatorFault.Html(502).ToString(), Is.EqualTo("Html(502)"));
            Assert.That(EmulatorFault.ConnectionReset().ToString(), Is.EqualTo("ConnectionReset()"));
            Assert.That(EmulatorFault.MalformedJson().ToString(), Is.EqualTo("MalformedJson()"));
            Assert.That(EmulatorFault.InvalidClient().ToString(), Is.EqualTo("InvalidClient()"));
            Assert.That(EmulatorFault.Stall(TimeSpan.FromSeconds(1)).ToString(), Is.EqualTo("Stall(00:00:01)"));
            Assert.That(EmulatorFault.Stall(Timeout.InfiniteTimeSpan).ToString(), Is.EqualTo("Stall(Infinite)"));
        });
    }
}
