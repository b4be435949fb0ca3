using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RapidSos.Http.Auth;
using RapidSos.Http.Auth.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Adds <see cref="BearerTokenHandler"/> to an <see cref="HttpClient"/> built by <c>IHttpClientFactory</c>.
/// </summary>
public static class RapidSosBearerTokenHttpClientBuilderExtensions
{
    /// <summary>
    /// Authenticates the client's requests with tokens of the RapidSOS registration <paramref name="name"/>
    /// (the default registration when <see langword="null"/>). When the client has no
    /// <see cref="HttpClient.BaseAddress"/>, it gets the registration's <see cref="RapidSosAuthOptions.BaseAddress"/>.
    /// </summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="name">The registration added with <c>AddRapidSosAuthentication(name, ...)</c>, or <see langword="null"/> for the default one.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <remarks>Creating the client throws <see cref="InvalidOperationException"/> when no registration has that name.</remarks>
    public static IHttpClientBuilder AddRapidSosBearerToken(this IHttpClientBuilder builder, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var registration = name ?? Options.Options.DefaultName;

        builder.ConfigureHttpClient((sp, client) =>
            client.BaseAddress ??= sp.GetRequiredService<IOptionsMonitor<RapidSosAuthOptions>>().Get(registration).BaseAddress);
        builder.AddHttpMessageHandler(sp => CreateHandler(sp, registration));
        return builder;
    }

    internal static BearerTokenHandler CreateHandler(IServiceProvider services, string name)
    {
        var provider = services.GetKeyedService<ITokenProvider>(name)
            ?? throw new InvalidOperationException(name.Length == 0
                ? "No default RapidSOS registration exists. Call services.AddRapidSosAuthentication(options => ...) before adding BearerTokenHandler to a client."
                : $"No RapidSOS registration named '{name}' exists. Call services.AddRapidSosAuthentication(\"{name}\", options => ...) before AddRapidSosBearerToken(\"{name}\").");
        var options = services.GetRequiredService<IOptionsMonitor<RapidSosAuthOptions>>().Get(name);
        var origins = services.GetRequiredKeyedService<RegistrationOrigins>(name);
        var credentials = services.GetRequiredKeyedService<CredentialSets>(name);
        return new BearerTokenHandler(provider, options, origins, credentials, services.GetService<ILogger<BearerTokenHandler>>(), name, services.GetService<RapidSosAuthMetrics>());
    }
}
