using Microsoft.Extensions.Hosting;

namespace RapidSos.Http.Auth.StackExchangeRedis.Internal;

/// <summary>
/// Connects the Redis store while the host starts, before it serves anything: a new instance's first token requests
/// (a rolling restart, a cold fleet) are then shared instead of each going alone while the connection is made.
/// Waits at most <see cref="Timeout"/> and never fails the start: a Redis that is down at start is no error.
/// </summary>
internal sealed class RedisConnectionWarmup : IHostedService
{
    /// <summary>The longest the host's start waits for Redis.</summary>
    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private readonly IRapidSosSharedTokenStore _store;

    public RedisConnectionWarmup(IRapidSosSharedTokenStore store)
    {
        _store = store;
    }

    public Task StartAsync(CancellationToken cancellationToken) =>
        _store is RedisSharedTokenStore redis ? redis.WarmUpAsync(Timeout, cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
