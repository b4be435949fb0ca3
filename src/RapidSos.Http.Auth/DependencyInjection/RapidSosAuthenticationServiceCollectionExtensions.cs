using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RapidSos.Http.Auth;
using RapidSos.Http.Auth.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers RapidSOS OAuth2 2LO authentication: options, a caching <see cref="ITokenProvider"/> per
/// registration, the token endpoint's back-channel client and <see cref="BearerTokenHandler"/>.
/// </summary>
public static class RapidSosAuthenticationServiceCollectionExtensions
{
    /// <summary>
    /// Adds the default RapidSOS registration, configured in code. Use it with
    /// <c>.AddHttpMessageHandler&lt;BearerTokenHandler&gt;()</c> or <c>.AddRapidSosBearerToken()</c>.
    /// </summary>
    /// <remarks>
    /// <paramref name="configure"/> runs once, when the options are first read: options set this way do not change,
    /// so a secret rotated elsewhere is not seen. To rotate, bind to configuration with the
    /// <see cref="AddRapidSosAuthentication(IServiceCollection, IConfiguration)"/> overload (reloaded with it), or
    /// register an <see cref="IOptionsChangeTokenSource{TOptions}"/> of <see cref="RapidSosAuthOptions"/> for the
    /// registration's name: each time its token fires, <paramref name="configure"/> runs again (reading the vault,
    /// say) and the new credentials take effect at the next token request.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options: at least <see cref="RapidSosAuthOptions.ClientId"/> and <see cref="RapidSosAuthOptions.ClientSecret"/>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddRapidSosAuthentication(this IServiceCollection services, Action<RapidSosAuthOptions> configure) =>
        services.AddRapidSosAuthentication(Options.Options.DefaultName, configure);

    /// <summary>
    /// Adds the default RapidSOS registration, bound to a configuration section (for example
    /// <c>configuration.GetSection("RapidSos")</c>) and reloaded when it changes, so a rotated secret takes
    /// effect at the next token request.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section whose keys are the names of <see cref="RapidSosAuthOptions"/>' properties.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddRapidSosAuthentication(this IServiceCollection services, IConfiguration configuration) =>
        services.AddRapidSosAuthentication(Options.Options.DefaultName, configuration);

    /// <summary>
    /// Adds a named RapidSOS registration (one credential set among several in the same application), configured
    /// in code. Attach it to a client with <c>.AddRapidSosBearerToken(name)</c>; its <see cref="ITokenProvider"/>
    /// is a keyed service under <paramref name="name"/>.
    /// </summary>
    /// <remarks>
    /// <paramref name="configure"/> runs once, unless an <see cref="IOptionsChangeTokenSource{TOptions}"/> of
    /// <see cref="RapidSosAuthOptions"/> for <paramref name="name"/> says the options changed: see
    /// <see cref="AddRapidSosAuthentication(IServiceCollection, Action{RapidSosAuthOptions})"/>.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The registration's name.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddRapidSosAuthentication(this IServiceCollection services, string name, Action<RapidSosAuthOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddOptionsWithValidateOnStart<RapidSosAuthOptions>(name).Configure(configure);
        return AddCore(services, name);
    }

    /// <summary>
    /// Adds a named RapidSOS registration bound to a configuration section and reloaded when it changes.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The registration's name.</param>
    /// <param name="configuration">The section whose keys are the names of <see cref="RapidSosAuthOptions"/>' properties.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddRapidSosAuthentication(this IServiceCollection services, string name, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptionsWithValidateOnStart<RapidSosAuthOptions>(name)
            .Configure(options => RapidSosAuthOptionsBinder.Bind(configuration, options));

        // Reload on change, so a rotated secret takes effect at the next token request.
        services.AddSingleton<IOptionsChangeTokenSource<RapidSosAuthOptions>>(new ConfigurationChangeTokenSource<RapidSosAuthOptions>(name, configuration));
        return AddCore(services, name);
    }

    /// <summary>
    /// Chooses the credentials of every request of registration <paramref name="name"/> that carries none of its own
    /// (<see cref="RapidSosHttpRequestMessageExtensions.WithRapidSosCredential"/>), with <typeparamref name="TResolver"/>,
    /// a singleton built from the container. The request's own credential wins over it; when it returns
    /// <see langword="null"/>, the registration's own credentials are used.
    /// </summary>
    /// <typeparam name="TResolver">The resolver.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The registration; the default one when <see langword="null"/>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddRapidSosCredentialResolver<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TResolver>(
        this IServiceCollection services, string? name = null)
        where TResolver : class, IRapidSosCredentialResolver
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddKeyedSingleton<IRapidSosCredentialResolver, TResolver>(name ?? Options.Options.DefaultName);
        return services;
    }

    private static IServiceCollection AddCore(IServiceCollection services, string name)
    {
        services.AddMemoryCache();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RapidSosAuthOptions>, RapidSosAuthOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<HttpClientFactoryOptions>, CredentialHeaderRedaction>());

        // The token client is the library's own: handlers every client gets (ConfigureHttpClientDefaults, as in .NET
        // Aspire's service defaults) are kept off it; what is configured for its name stays.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<HttpClientFactoryOptions>, BackChannelIsolation>());
        services.TryAddSingleton(sp => new TokenEndpointClient(sp.GetRequiredService<IHttpClientFactory>(), sp.GetService<TimeProvider>()));
        services.TryAddSingleton(sp => new RapidSosAuthMetrics(sp.GetService<IMeterFactory>()));
        services.TryAddSingleton(sp => new TokenTelemetry(
            sp.GetService<ILoggerFactory>()?.CreateLogger("RapidSos.Http.Auth"),
            sp.GetRequiredService<RapidSosAuthMetrics>()));
        services.TryAddSingleton(sp => new TokenLifecycleStore(
            sp.GetRequiredService<IMemoryCache>(),
            sp.GetRequiredService<TokenEndpointClient>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<TokenTelemetry>(),
            sp.GetService<IRapidSosSharedTokenStore>()));
        services.TryAddSingleton(sp => new RapidSosOptionsChanges(sp.GetRequiredService<IOptionsMonitor<RapidSosAuthOptions>>()));
        services.TryAddSingleton<CredentialSetsDirectory>();

        var registrations = (RapidSosRegistrations?)services.FirstOrDefault(d => d.ServiceType == typeof(RapidSosRegistrations))?.ImplementationInstance;
        if (registrations is null)
        {
            registrations = new RapidSosRegistrations();
            services.AddSingleton(registrations);
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TokenWarmupService>());
            services.AddHttpClient(RapidSosAuthDefaults.TokenClientName, client => client.Timeout = TimeSpan.FromSeconds(30))
                // HttpClient's own request logging is off on the back channel: the library logs every token request
                // itself, without secrets, and a log sink that throws must not fail a token request (which the
                // factory's logging handlers would let it do).
                .RemoveAllLoggers()
                .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler
                {
                    // A redirected POST would carry the client secret to wherever the redirect points.
                    AllowAutoRedirect = false,
                    UseCookies = false,
                });
        }

        registrations.Names.Add(name);

        services.TryAddKeyedSingleton<ITokenProvider>(name, static (sp, key) => new CachingTokenProvider(
            (string)key!,
            sp.GetRequiredService<RapidSosOptionsChanges>(),
            sp.GetRequiredService<TokenLifecycleStore>(),
            sp.GetRequiredService<TokenTelemetry>()));

        services.TryAddKeyedSingleton(name, static (sp, key) => new RegistrationOrigins((string)key!, sp.GetRequiredService<RapidSosOptionsChanges>()));
        services.TryAddKeyedSingleton(name, static (sp, key) => new CredentialSets(
            (string)key!,
            sp.GetRequiredService<RapidSosOptionsChanges>(),
            sp.GetRequiredService<TokenLifecycleStore>(),
            sp.GetRequiredService<CredentialSetsDirectory>(),
            sp.GetKeyedService<IRapidSosCredentialResolver>(key)));
        services.TryAddKeyedSingleton<IRapidSosTokenCache>(name, static (sp, key) => sp.GetRequiredKeyedService<CredentialSets>(key));

        if (name == Options.Options.DefaultName)
        {
            services.TryAddSingleton(static sp => sp.GetRequiredKeyedService<ITokenProvider>(Options.Options.DefaultName));
            services.TryAddSingleton(static sp => sp.GetRequiredKeyedService<IRapidSosTokenCache>(Options.Options.DefaultName));
        }

        services.TryAddTransient(static sp => RapidSosBearerTokenHttpClientBuilderExtensions.CreateHandler(sp, Options.Options.DefaultName));
        return services;
    }
}
