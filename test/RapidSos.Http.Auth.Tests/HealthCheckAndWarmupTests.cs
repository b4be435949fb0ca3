using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using RapidSos.Http.Auth.Testing;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests;

public class HealthCheckAndWarmupTests
{
    private static async Task<HealthReportEntry> CheckAsync(ProviderHarness h) =>
        (await h.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["rapidsos-token"];

    private static ProviderHarness Harness(Action<RapidSosAuthOptions>? configure = null) =>
        new(configure, s => s.AddHealthChecks().AddRapidSosTokenCheck());

    [Test]
    public async Task Check_ValidTokenCached_HealthyWithoutTokenRequest()
    {
        using var h = Harness();
        await h.Provider.GetTokenAsync();

        var entry = await CheckAsync(h);
        await CheckAsync(h);

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Healthy));
        Assert.That(entry.Data["client_id"], Is.EqualTo("client-1"));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1), "probes must not fetch while a valid token is cached");
    }

    [Test]
    public async Task Check_NoTokenYet_ObtainsOneAndIsHealthy()
    {
        using var h = Harness();

        var entry = await CheckAsync(h);

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Healthy));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Check_RefreshFailingOnValidToken_Degraded()
    {
        using var h = Harness();
        await h.Provider.GetTokenAsync();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.ServiceUnavailable, "<html><title>503 Service Unavailable</title></html>");
        h.Time.Advance(TimeSpan.FromSeconds(3599 - 100));
        await h.Provider.GetTokenAsync();
        await Poll.UntilAsync(() => h.Caching.Lifecycle!.State.Failure?.Attempts == 1, "the background refresh to fail");

        var entry = await CheckAsync(h);

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Degraded));
        Assert.That(entry.Description, Does.Contain("503 Service Unavailable"));
        Assert.That(entry.Description, Does.Contain("1 refresh attempt(s) failed"));
    }

    [Test]
    public async Task Check_NoTokenCanBeHad_UnhealthyWithGatewayMessageAndNoSecret()
    {
        using var h = Harness();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"ErrorCode":"invalid_client","Error":"Client credentials are invalid"}""");

        var entry = await CheckAsync(h);

        Assert.That(entry.Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(entry.Description, Does.Contain("Client credentials are invalid"));
        Assert.That(entry.Description, Does.Not.Contain(ProviderHarness.Secret));
    }

    private static async Task<(IHost Host, RapidSosGatewayEmulator Gateway)> StartHostAsync(bool acquireOnStart, string secret = "emulator-secret")
    {
        var gateway = RapidSosGatewayEmulator.CreateInMemory();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = gateway.BaseAddress;
            o.ClientId = "emulator-client";
            o.ClientSecret = secret;
            o.AcquireTokenOnStart = acquireOnStart;
        });
        builder.Services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).ConfigurePrimaryHttpMessageHandler(gateway.CreateHandler);
        var host = builder.Build();
        await host.StartAsync();
        return (host, gateway);
    }

    [Test]
    public async Task AcquireTokenOnStart_FetchesFirstTokenWhileHostStarts()
    {
        var (host, gateway) = await StartHostAsync(acquireOnStart: true);
        using (host)
        await using (gateway)
        {
            Assert.That(gateway.SuccessfulTokenRequestCount, Is.EqualTo(1));
            var token = host.Services.GetRequiredService<ITokenProvider>().GetTokenAsync();
            Assert.That(token.IsCompletedSuccessfully, Is.True, "the first real call pays no token latency");
            await host.StopAsync();
        }
    }

    [Test]
    public async Task AcquireTokenOnStart_Off_FetchesNothingAtStart()
    {
        var (host, gateway) = await StartHostAsync(acquireOnStart: false);
        using (host)
        await using (gateway)
        {
            Assert.That(gateway.TokenRequestCount, Is.Zero);
            await host.StopAsync();
        }
    }

    [Test]
    public void AcquireTokenOnStart_WrongSecret_FailsStartWithGatewayMessage()
    {
        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(() => StartHostAsync(acquireOnStart: true, secret: "wrong"));

        Assert.That(ex!.Message, Does.Contain("Client credentials are invalid"));
        Assert.That(ex.Message, Does.Not.Contain("wrong"));
    }
}
