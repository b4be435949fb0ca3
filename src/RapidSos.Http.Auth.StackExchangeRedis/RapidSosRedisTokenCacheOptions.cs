using StackExchange.Redis;

namespace RapidSos.Http.Auth.StackExchangeRedis;

/// <summary>
/// Settings of the shared token cache on Redis: how to reach Redis, how its keys are named, and how long a token
/// lookup may wait on it. Set exactly one of <see cref="Configuration"/> and <see cref="ConnectionMultiplexerFactory"/>.
/// </summary>
/// <remarks>
/// Redis holds no usable secret: keys are keyed hashes and values are sealed with AES-GCM under keys derived from
/// each client secret (and, for the password grant, the user's credentials), so reading Redis neither yields a
/// token nor lets a guess of a secret or password be tested. The cache is an optimisation: when Redis is down or
/// slower than <see cref="OperationTimeout"/>, every instance carries on alone.
/// </remarks>
public sealed class RapidSosRedisTokenCacheOptions
{
    /// <summary>
    /// Gets or sets a StackExchange.Redis configuration string (for example <c>redis.internal:6379,ssl=true</c>),
    /// from which the cache opens its own connection. It may hold a password, so it is never logged.
    /// </summary>
    /// <value>The default is <see langword="null"/>: use <see cref="ConnectionMultiplexerFactory"/> instead.</value>
    public string? Configuration { get; set; }

    /// <summary>
    /// Gets or sets a factory that returns the application's own connection, so the cache shares it instead of
    /// opening another. The cache calls it once and does not dispose the connection it returns.
    /// </summary>
    /// <value>The default is <see langword="null"/>: use <see cref="Configuration"/> instead.</value>
    public Func<Task<IConnectionMultiplexer>>? ConnectionMultiplexerFactory { get; set; }

    /// <summary>
    /// Gets or sets the prefix of every Redis key the cache writes, so several applications (or environments)
    /// can share one Redis without sharing tokens. It must not be empty or contain control characters.
    /// </summary>
    /// <value>The default is <c>rapidsos:auth:</c>.</value>
    public string KeyPrefix { get; set; } = "rapidsos:auth:";

    /// <summary>
    /// Gets or sets how long a token lookup may wait on Redis before the instance goes on alone (fetching or
    /// refreshing its token itself, as it would without Redis). It must be greater than zero and at most 30 seconds.
    /// </summary>
    /// <value>The default is 250 milliseconds.</value>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(250);
}
