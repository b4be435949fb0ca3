using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RapidSos.Http.Auth;
using RapidSos.Http.Auth.StackExchangeRedis;
using RapidSos.Http.Auth.StackExchangeRedis.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the shared token cache on Redis, through which the instances of a fleet share one token per credential
/// set and take turns fetching it.
/// </summary>
public static class RapidSosRedisTokenCacheServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Redis store as the application's <see cref="IRapidSosSharedTokenStore"/> (a singleton), for every
    /// RapidSOS registration and run-time credential set of the container. It connects on first use, never fails a
    /// token request (when Redis is down or slower than <see cref="RapidSosRedisTokenCacheOptions.OperationTimeout"/>,
    /// the instance goes on alone) and closes its own connection with the container.
    /// </summary>
    /// <remarks>
    /// The options are validated when the application starts: a missing or doubled connection setting, an empty
    /// <see cref="RapidSosRedisTokenCacheOptions.KeyPrefix"/> or an out-of-range timeout fails the start naming it.
    /// The first registered <see cref="IRapidSosSharedTokenStore"/> wins: one registered before this call is kept.
    /// Calling this twice adds both <paramref name="configure"/> actions to the one store's options.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options: exactly one of <see cref="RapidSosRedisTokenCacheOptions.Configuration"/> and <see cref="RapidSosRedisTokenCacheOptions.ConnectionMultiplexerFactory"/>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddRapidSosRedisTokenCache(this IServiceCollection services, Action<RapidSosRedisTokenCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptionsWithValidateOnStart<RapidSosRedisTokenCacheOptions>().Configure(configure);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RapidSosRedisTokenCacheOptions>, RapidSosRedisTokenCacheOptionsValidator>());
        services.TryAddSingleton<IRapidSosSharedTokenStore>(static provider => new RedisSharedTokenStore(
            provider.GetRequiredService<IOptions<RapidSosRedisTokenCacheOptions>>().Value,
            provider.GetService<TimeProvider>()));

        // Registered first among the library's hosted services is not guaranteed (AddRapidSosAuthentication usually
        // comes first), so a token warm-up may still go alone; every later token request finds the connection made.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisConnectionWarmup>());
        return services;
    }
}
