namespace RapidSos.Http.Auth.StackExchangeRedis.Tests;

public sealed class RapidSosRedisTokenCacheOptionsTests
{
    [Test]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new RapidSosRedisTokenCacheOptions();

        Assert.Multiple(() =>
        {
            Assert.That(options.Configuration, Is.Null);
            Assert.That(options.ConnectionMultiplexerFactory, Is.Null);
            Assert.That(options.KeyPrefix, Is.EqualTo("rapidsos:auth:"));
            Assert.That(options.OperationTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(250)));
        });
    }
}
