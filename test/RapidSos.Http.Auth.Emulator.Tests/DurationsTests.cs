namespace RapidSos.Http.Auth.Emulator.Tests;

public sealed class DurationsTests
{
    [TestCase("90", 90_000)]
    [TestCase("1.5", 1_500)]
    [TestCase("0", 0)]
    [TestCase("250ms", 250)]
    [TestCase("90s", 90_000)]
    [TestCase("2m", 120_000)]
    [TestCase("1h", 3_600_000)]
    [TestCase("1.5h", 5_400_000)]
    [TestCase(" 3S ", 3_000)]
    [TestCase("0.5ms", 0.5)]
    public void TryParse_Valid_ReadsDuration(string text, double expectedMilliseconds)
    {
        Assert.Multiple(() =>
        {
            Assert.That(Durations.TryParse(text, out var value), Is.True);
            Assert.That(value, Is.EqualTo(TimeSpan.FromMilliseconds(expectedMilliseconds)));
        });
    }

    [TestCase("")]
    [TestCase(" ")]
    [TestCase(null)]
    [TestCase("-1")]
    [TestCase("-1s")]
    [TestCase("+1s")]
    [TestCase("1d")]
    [TestCase("1 s")]
    [TestCase("s")]
    [TestCase("ms")]
    [TestCase("1.")]
    [TestCase(".5")]
    [TestCase("1.2.3")]
    [TestCase("1e3")]
    [TestCase("1,5")]
    [TestCase("00:01:00")]
    [TestCase("infinite")]
    [TestCase("3651d")]
    [TestCase("87601h")]
    public void TryParse_Invalid_ReturnsFalse(string? text)
    {
        Assert.That(Durations.TryParse(text, out _), Is.False);
    }

    [TestCase(0, "0s")]
    [TestCase(250, "250ms")]
    [TestCase(1_500, "1500ms")]
    [TestCase(90_000, "90s")]
    [TestCase(120_000, "2m")]
    [TestCase(3_600_000, "1h")]
    public void Format_Duration_IsReadBackByTryParse(double milliseconds, string expected)
    {
        var value = TimeSpan.FromMilliseconds(milliseconds);

        var text = Durations.Format(value);

        Assert.Multiple(() =>
        {
            Assert.That(text, Is.EqualTo(expected));
            Assert.That(Durations.TryParse(text, out var back) ? back : TimeSpan.MinValue, Is.EqualTo(value));
        });
    }
}
