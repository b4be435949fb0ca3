using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Tests.Integration;

/// <summary>
/// The gateway emulator on real Kestrel (127.0.0.1) and an application wired the way users wire it: a typed
/// client with <c>.AddHttpMessageHandler&lt;BearerTokenHandler&gt;()</c>. Both share one FakeTimeProvider, so
/// token expiry is driven by the test on both sides of the wire.
/// </summary>
internal sealed class GatewayFixture : IAsyncDisposable
{
    private ServiceProvider _services = null!;

    private GatewayFixture()
    {
    }

    public RapidSosGatewayEmulator Gateway { get; private set; } = null!;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));

    public FakeLogCollector Logs { get; } = new();

    public IServiceProvider Services => _services;

    public HttpClient Api => _services.GetRequiredService<IHttpClientFactory>().CreateClient("rapidsos");

    public ITokenProvider Tokens => _services.GetRequiredService<ITokenProvider>();

    public static async Task<GatewayFixture> StartAsync(
        Action<RapidSosGatewayEmulatorOptions>? gateway = null,
        Action<RapidSosAuthOptions>? auth = null)
    {
        var fixture = new GatewayFixture();
        var gatewayOptions = new RapidSosGatewayEmulatorOptions { TimeProvider = fixture.Time };
        gateway?.Invoke(gatewayOptions);
        fixture.Gateway = await RapidSosGatewayEmulator.StartAsync(gatewayOptions);

        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(fixture.Logs)));
        services.AddSingleton<TimeProvider>(fixture.Time);
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = fixture.Gateway.BaseAddress;
            o.ClientId = gatewayOptions.ClientId;
            o.ClientSecret = gatewayOptions.ClientSecret;
            auth?.Invoke(o);
        });
        services.AddHttpClient("rapidsos", c => c.BaseAddress = fixture.Gateway.BaseAddress)
            .AddHttpMessageHandler<BearerTokenHandler>();
        fixture._services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return fixture;
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Gateway.DisposeAsync();
    }
}
