using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Tests.Integration;

/// <summary>How a registration is wired into the application's clients, over loopback HTTP against the emulator on Kestrel.</summary>
public class RegistrationWiringTests
{
    [Test]
    public async Task ConfigureHttpClientDefaults_HandlerOnEveryClient_BackChannelPassesThroughUntouched()
    {
        await using var gateway = await RapidSosGatewayEmulator.StartAsync();
        var services = new ServiceCollection();
        services.ConfigureHttpClientDefaults(b => b.AddRapidSosBearerToken());
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = gateway.BaseAddress;
            o.ClientId = "emulator-client";
            o.ClientSecret = "emulator-secret";
        });

        // Were the handler to authenticate its own token request, that request would wait for itself until this timeout.
        services.AddHttpClient(RapidSosAuthDefaults.TokenClientName, c => c.Timeout = TimeSpan.FromSeconds(5));
        services.AddHttpClient("api");
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var api = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");

        using var response = await api.GetAsync("v1/ping");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(gateway.TokenRequests.Single().Headers.ContainsKey("Authorization"), Is.False, "the token request went out as the library built it, with no bearer header");
    }

    [Test]
    public async Task ReloadedBaseAddress_AppliesToTheNextRequestThroughTheSameHandler()
    {
        await using var first = await RapidSosGatewayEmulator.StartAsync();
        await using var second = await RapidSosGatewayEmulator.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RapidSos:BaseAddress"] = first.BaseAddress.AbsoluteUri,
            ["RapidSos:ClientId"] = "emulator-client",
            ["RapidSos:ClientSecret"] = "emulator-secret",
        }).Build();
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(configuration.GetSection("RapidSos"));
        services.AddHttpClient("api").AddRapidSosBearerToken();
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        using (var before = await factory.CreateClient("api").GetAsync("v1/ping"))
        {
            Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        configuration["RapidSos:BaseAddress"] = second.BaseAddress.AbsoluteUri;
        configuration.Reload();

        // The factory hands out the same handler for its lifetime (2 minutes by default): the origins must follow the options, not the handler.
        var client = factory.CreateClient("api");
        using var after = await client.GetAsync("v1/ping");
        Assert.That(client.BaseAddress, Is.EqualTo(second.BaseAddress));
        Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(second.ApiRequestCount, Is.EqualTo(1));
        var ex = Assert.ThrowsAsync<InvalidOperationException>(() => client.GetAsync(new Uri(first.BaseAddress, "v1/ping")));
        Assert.That(ex!.Message, Does.Contain("sent only to " + second.BaseAddress.GetLeftPart(UriPartial.Authority)));
    }
}
