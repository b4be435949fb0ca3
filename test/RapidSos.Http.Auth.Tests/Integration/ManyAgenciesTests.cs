using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Tests.Integration;

/// <summary>One service, many agencies and users, over loopback HTTP against the emulator on Kestrel.</summary>
public class ManyAgenciesTests
{
    [Test]
    public async Task ThreeHundredAgenciesConcurrently_EachApiRequestCarriesATokenIssuedToItsOwnAgency()
    {
        await using var gateway = await RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions { TokenLatency = TimeSpan.FromMilliseconds(20) });
        var agencies = Enumerable.Range(0, 300).Select(i => new RapidSosCredential($"agency-{i}", $"secret-{i}+/ü")).ToArray();
        foreach (var agency in agencies)
        {
            gateway.AddClient(agency.ClientId, $"secret-{agency.ClientId["agency-".Length..]}+/ü");
        }

        await using var services = Build(gateway);
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient("api");

        var statuses = await Task.WhenAll(agencies.SelectMany(a => Enumerable.Repeat(a, 5)).Select(a => Task.Run(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "v1/ping").WithRapidSosCredential(a);
            request.Headers.Add("X-Agency", a.ClientId);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        })));

        Assert.That(statuses, Has.All.EqualTo(HttpStatusCode.OK));
        Assert.That(gateway.TokenRequests.GroupBy(r => r.ClientId).Select(g => g.Count()), Has.All.EqualTo(1), "one token request per agency");
        Assert.That(gateway.TokenRequestCount, Is.EqualTo(300));
        var api = gateway.Requests.Where(r => r.IsApiRequest).ToList();
        Assert.That(api, Has.Count.EqualTo(1500));
        Assert.That(api, Has.All.Matches<EmulatorRequest>(r => r.TokenClientId == r.Headers["X-Agency"]), "never another agency's token");
    }

    [Test]
    public async Task OneAgencysSecretRevoked_OnlyThatAgencyFailsAndTheOthersNeverWait()
    {
        await using var gateway = await RapidSosGatewayEmulator.StartAsync();
        var a = new RapidSosCredential("agency-a", "secret-a");
        var b = new RapidSosCredential("agency-b", "secret-b");
        gateway.AddClient(a.ClientId, "secret-a");
        gateway.AddClient(b.ClientId, "secret-b");
        await using var services = Build(gateway);
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient("api");
        (await Send(client, a)).Dispose();
        (await Send(client, b)).Dispose();

        gateway.RemoveClient(a.ClientId);
        var refused = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => (await Send(client, a)).Dispose());
        var tokenRequestsBefore = gateway.TokenRequestCount;
        using var other = await Send(client, b);

        Assert.That(refused!.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(gateway.TokenRequestCount, Is.EqualTo(tokenRequestsBefore), "agency B kept its token");
    }

    [Test]
    public async Task SignOut_RemoveDropsTheUsersTokenAndTheNextSignInGetsANewOne()
    {
        await using var gateway = await RapidSosGatewayEmulator.StartAsync();
        gateway.AddClient("agency-a", "secret-a");
        gateway.AddUser("agency-a", "dispatcher-7", "pässword \"7\"");
        await using var services = Build(gateway);
        var tokens = services.GetRequiredService<IRapidSosTokenCache>();
        var user = RapidSosCredential.ForUser("agency-a", "secret-a", "dispatcher-7", "pässword \"7\"");
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient("api");
        using (var response = await Send(client, user))
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var first = await tokens.GetTokenAsync(user);
        tokens.Remove(user);
        var second = await tokens.GetTokenAsync(user);

        Assert.That(second.Value, Is.Not.EqualTo(first.Value));
        Assert.That(gateway.TokenRequests.Select(r => r.TokenUsername), Is.EqualTo(new[] { "dispatcher-7", "dispatcher-7" }));
        Assert.That(gateway.Requests.Single(r => r.IsApiRequest).TokenUsername, Is.EqualTo("dispatcher-7"));
    }

    private static ServiceProvider Build(RapidSosGatewayEmulator gateway)
    {
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(o => o.BaseAddress = gateway.BaseAddress);
        services.AddHttpClient("api").AddRapidSosBearerToken();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private static Task<HttpResponseMessage> Send(HttpClient client, RapidSosCredential credential) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "v1/ping").WithRapidSosCredential(credential));
}
