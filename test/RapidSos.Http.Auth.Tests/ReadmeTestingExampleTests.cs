using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RapidSos.Http.Auth;
using RapidSos.Http.Auth.Testing;

namespace ReadmeExamples;

/// <summary>The README's "Testing your RapidSOS client" examples, verbatim, so they keep compiling and passing.</summary>
public class ReadmeTestingExampleTests
{
    [Test]
    public async Task Ping_TokenRevokedMidway_RetriesOnceAndSucceeds()
    {
        var time = new FakeTimeProvider();
        await using var gateway = await RapidSosGatewayEmulator.StartAsync(new() { TimeProvider = time });
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = gateway.BaseAddress;                    // http on loopback is allowed
            o.ClientId = "emulator-client";
            o.ClientSecret = "emulator-secret";
        });
        services.AddHttpClient<EmergencyDataClient>(c => c.BaseAddress = gateway.BaseAddress)
            .AddHttpMessageHandler<BearerTokenHandler>();
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<EmergencyDataClient>();

        Assert.That(await client.PingAsync(), Is.EqualTo(HttpStatusCode.OK));
        gateway.RevokeAllTokens();                                  // the gateway now answers 401 to the old token
        Assert.That(await client.PingAsync(), Is.EqualTo(HttpStatusCode.OK));

        Assert.That(gateway.SuccessfulTokenRequestCount, Is.EqualTo(2));
        Assert.That(gateway.UnauthorizedCount, Is.EqualTo(1));
        gateway.EnqueueFault(EmulatorFault.TooManyRequests(TimeSpan.FromSeconds(1)));
        time.Advance(TimeSpan.FromHours(2));                        // both sides see the token expire
        Assert.ThrowsAsync<RapidSosAuthenticationException>(() => client.PingAsync());
    }

    [Test]
    public async Task Ping_InMemoryGatewayWithDefaultAddress_PassesValidationAndSucceeds()
    {
        await using var gateway = RapidSosGatewayEmulator.CreateInMemory();
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = gateway.BaseAddress;                        // https://rapidsos-emulator.local/
            o.ClientId = "emulator-client";
            o.ClientSecret = "emulator-secret";
        });
        services.AddHttpClient(RapidSosAuthDefaults.TokenClientName)    // token requests go to the emulator too
            .ConfigurePrimaryHttpMessageHandler(gateway.CreateHandler);
        services.AddHttpClient<EmergencyDataClient>(c => c.BaseAddress = gateway.BaseAddress)
            .ConfigurePrimaryHttpMessageHandler(gateway.CreateHandler)
            .AddHttpMessageHandler<BearerTokenHandler>();
        await using var provider = services.BuildServiceProvider();

        Assert.That(await provider.GetRequiredService<EmergencyDataClient>().PingAsync(), Is.EqualTo(HttpStatusCode.OK));
    }
}

public sealed class EmergencyDataClient(HttpClient http)
{
    public async Task<HttpStatusCode> PingAsync()
    {
        using var response = await http.GetAsync("v1/ping");
        return response.StatusCode;
    }
}
