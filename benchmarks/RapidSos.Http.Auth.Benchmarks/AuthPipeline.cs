using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks;

/// <summary>
/// The library wired the way an application wires it: <c>AddRapidSosAuthentication</c> in a service collection,
/// <see cref="BearerTokenHandler"/> and <see cref="ITokenProvider"/> resolved from the container.
/// </summary>
internal sealed class AuthPipeline : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private AuthPipeline(ServiceProvider services, Uri baseAddress)
    {
        _services = services;
        BaseAddress = baseAddress;
    }

    /// <summary>The registration's base address: every request must go to this origin.</summary>
    public Uri BaseAddress { get; }

    public ITokenProvider Tokens => _services.GetRequiredService<ITokenProvider>();

    /// <summary>The container, for what a benchmark registered in it (named clients, the handler factory).</summary>
    public IServiceProvider Services => _services;

    /// <summary>
    /// Registers the default RapidSOS registration against <paramref name="gateway"/>: over its socket when it runs
    /// on Kestrel, through its in-memory handler otherwise.
    /// </summary>
    public static AuthPipeline Create(RapidSosGatewayEmulator gateway, Action<IServiceCollection>? configureServices = null)
    {
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = gateway.BaseAddress;
            o.ClientId = "emulator-client";
            o.ClientSecret = "emulator-secret";
        });

        if (gateway.IsInMemory)
        {
            services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).ConfigurePrimaryHttpMessageHandler(gateway.CreateHandler);
        }

        configureServices?.Invoke(services);
        return new AuthPipeline(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }), gateway.BaseAddress);
    }

    /// <summary>A new <see cref="BearerTokenHandler"/> from the container (it is transient) in front of <paramref name="inner"/>.</summary>
    public BearerTokenHandler CreateHandler(HttpMessageHandler inner)
    {
        var handler = _services.GetRequiredService<BearerTokenHandler>();
        handler.InnerHandler = inner;
        return handler;
    }

    /// <summary>Fetches the first token, so that what follows measures a warm cache.</summary>
    public async Task<AccessToken> WarmAsync() => await Tokens.GetTokenAsync();

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
