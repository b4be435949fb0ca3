using RapidSos.Http.Auth.StackExchangeRedis.Internal;
using StackExchange.Redis;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Internal;

public sealed class RapidSosRedisTokenCacheOptionsValidatorTests
{
    private const string RedisPassword = "redis-pw-4f9c1e";

    private static readonly Func<Task<IConnectionMultiplexer>> s_factory =
        () => Task.FromException<IConnectionMultiplexer>(new InvalidOperationException("not called"));

    [Test]
    public void Validate_ConfigurationOnly_Succeeds()
    {
        var result = Validate(new RapidSosRedisTokenCacheOptions { Configuration = "localhost:6379" });

        Assert.That(result.Succeeded, Is.True, result.FailureMessage);
    }

    [Test]
    public void Validate_FactoryOnly_Succeeds()
    {
        var result = Validate(new RapidSosRedisTokenCacheOptions { ConnectionMultiplexerFactory = s_factory });

        Assert.That(result.Succeeded, Is.True, result.FailureMessage);
    }

    [Test]
    public void Validate_NeitherConfigurationNorFactory_FailsNamingBoth()
    {
        var result = Validate(new RapidSosRedisTokenCacheOptions());

        Assert.That(result.Failures, Is.EqualTo(new[]
        {
            "RapidSosRedisTokenCacheOptions.Configuration or ConnectionMultiplexerFactory is required (the RapidSOS Redis token cache).",
        }));
    }

    [Test]
    public void Validate_BothConfigurationAndFactory_FailsAskingForOne()
    {
        var result = Validate(new RapidSosRedisTokenCacheOptions { Configuration = "localhost", ConnectionMultiplexerFactory = s_factory });

        Assert.That(result.Failures, Is.EqualTo(new[]
        {
            "RapidSosRedisTokenCacheOptions.Configuration and ConnectionMultiplexerFactory are both set; set only one (the RapidSOS Redis token cache).",
        }));
    }

    [TestCase("")]
    [TestCase("   ")]
    public void Validate_BlankConfiguration_Fails(string configuration)
    {
        var result = Validate(new RapidSosRedisTokenCacheOptions { Configuration = configuration });

        Assert.That(result.Failures, Is.EqualTo(new[] { "RapidSosRedisTokenCacheOptions.Configuration is empty (the RapidSOS Redis token cache)." }));
    }

    [TestCase("localhost:6379,nosuchoption=1")]
    [TestCase("localhost:6379,abortConnect=maybe")]
    [TestCase("localhost:6379,password={RedisPasswordPlaceholder},connectTimeout=soon")]
    public void Validate_ConfigurationNotParsable_FailsWithoutQuotingIt(string configuration)
    {
        var result = Validate(new RapidSosRedisTokenCacheOptions { Configuration = configuration.Replace("{RedisPasswordPlaceholder}", RedisPassword, StringComparison.Ordinal) });

        Assert.That(result.Failures, Is.EqualTo(new[]
        {
            "RapidSosRedisTokenCacheOptions.Configuration is not a StackExchange.Redis configuration string (such as redis.internal:6379,ssl=true) (the RapidSOS Redis token cache).",
        }));
        Assert.That(result.FailureMessage, Does.Not.Contain(RedisPassword));
    }

    [TestCase("localhost:6379,ssl=true,password=p,abortConnect=false,connectTimeout=500")]
    [TestCase("redis-0:6379,redis-1:6379,serviceName=mymaster")]
    public void Validate_ConfigurationWithOptions_Succeeds(string configuration)
    {
        Assert.That(Validate(new RapidSosRedisTokenCacheOptions { Configuration = configuration }).Succeeded, Is.True);
    }

    [TestCase(null)]
    [TestCase("")]
    public void Validate_MissingKeyPrefix_Fails(string? keyPrefix)
    {
        var result = Validate(new RapidSosRedisTokenCacheOptions { Configuration = "localhost", KeyPrefix = keyPrefix! });

        Assert.That(result.Failures, Is.EqualTo(new[] { "RapidSosRedisTokenCacheOptions.KeyPrefix is required (the RapidSOS Redis token cache)." }));
    }

    [TestCase("app\n:")]
    [TestCase("app\0:")]
    [TestCase("app\u007f:")]
    [TestCase("app\u0085:")]
    public void Validate_KeyPrefixWithControlCharacter_Fails(string keyPrefix)
    {
        var result = Validate(new RapidSosRedisTokenCacheOptions { Configuration = "localhost", KeyPrefix = keyPrefix });

        Assert.That(result.Failures, Is.EqualTo(new[] { "RapidSosRedisTokenCacheOptions.KeyPrefix contains a control character (the RapidSOS Redis token cache)." }));
    }

    [TestCase("a")]
    [TestCase("tenant-7:{rapidsos}:")]
    [TestCase("appé:")]
    public void Validate_PrintableKeyPrefix_Succeeds(string keyPrefix)
    {
        var result = Validate(new RapidSosRedisTokenCacheOptions { Configuration = "localhost", KeyPrefix = keyPrefix });

        Assert.That(result.Succeeded, Is.True, result.FailureMessage);
    }

    [TestCase(0)]
    [TestCase(-1)]
    [TestCase(-250)]
    public void Validate_NonPositiveOperationTimeout_Fails(int milliseconds)
    {
        var timeout = TimeSpan.FromMilliseconds(milliseconds);
        var result = Validate(new RapidSosRedisTokenCacheOptions { Configuration = "localhost", OperationTimeout = timeout });

        Assert.That(result.Failures, Is.EqualTo(new[]
        {
            $"RapidSosRedisTokenCacheOptions.OperationTimeout is {timeout}; it must be greater than zero (the RapidSOS Redis token cache).",
        }));
    }

    [Test]
    public void Validate_OperationTimeoutOverThirtySeconds_Fails()
    {
        var timeout = TimeSpan.FromSeconds(30) + TimeSpan.FromTicks(1);
        var result = Validate(new RapidSosRedisTokenCacheOptions { Configuration = "localhost", OperationTimeout = timeout });

        Assert.That(result.Failures, Is.EqualTo(new[]
        {
            $"RapidSosRedisTokenCacheOptions.OperationTimeout is {timeout}; it must be at most 00:00:30 (the RapidSOS Redis token cache).",
        }));
    }

    [TestCase(1)]
    [TestCase(30_000)]
    public void Validate_OperationTimeoutAtTheBounds_Succeeds(int milliseconds)
    {
        var result = Validate(new RapidSosRedisTokenCacheOptions { Configuration = "localhost", OperationTimeout = TimeSpan.FromMilliseconds(milliseconds) });

        Assert.That(result.Succeeded, Is.True, result.FailureMessage);
    }

    [Test]
    public void Validate_SeveralProblems_NamesEachAndNeverTheConfiguration()
    {
        var result = Validate(new RapidSosRedisTokenCacheOptions
        {
            Configuration = $"redis.internal:6380,password={RedisPassword}",
            ConnectionMultiplexerFactory = s_factory,
            KeyPrefix = string.Empty,
            OperationTimeout = TimeSpan.Zero,
        });

        Assert.That(result.Failures, Has.Count.EqualTo(3));
        Assert.That(result.FailureMessage, Does.Not.Contain(RedisPassword).And.Not.Contain("redis.internal"));
    }

    [Test]
    public void Validate_NullOptions_Throws()
    {
        Assert.That(() => new RapidSosRedisTokenCacheOptionsValidator().Validate(null, null!), Throws.ArgumentNullException);
    }

    private static Microsoft.Extensions.Options.ValidateOptionsResult Validate(RapidSosRedisTokenCacheOptions options) =>
        new RapidSosRedisTokenCacheOptionsValidator().Validate(name: null, options);
}
