using System.Net;
using System.Text;

namespace RapidSos.Http.Auth.Emulator.Tests;

/// <summary>Where the control API is, what it refuses, and that it is never reachable as the gateway (nor the gateway through it).</summary>
public sealed class ControlApiRoutingTests : EmulatorHostTestBase
{
    [Test]
    public async Task Index_Get_ListsEveryEndpointAndWhereTheGatewayIs()
    {
        await StartHostAsync();

        var answer = await GetAsync(string.Empty);
        var json = answer.Json;
        var endpoints = json.GetProperty("endpoints").EnumerateArray()
            .Select(e => $"{e.GetProperty("method").GetString()} {e.GetProperty("path").GetString()}")
            .ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(json.GetProperty("gateway").GetString(), Is.EqualTo(Host.GatewayAddress.ToString()));
            Assert.That(json.GetProperty("tokenEndpoint").GetString(), Is.EqualTo(Host.Emulator.TokenEndpoint.ToString()));
            Assert.That(endpoints, Is.EquivalentTo(new[]
            {
                "GET /_emulator/", "POST /_emulator/revoke", "POST /_emulator/reject", "POST /_emulator/faults", "POST /_emulator/api-faults",
                "GET /_emulator/counters", "POST /_emulator/reset", "GET /_emulator/settings", "POST /_emulator/settings",
                "POST /_emulator/clients", "DELETE /_emulator/clients/{id}", "POST /_emulator/users", "DELETE /_emulator/users/{name}",
            }));
        });
    }

    [Test]
    public async Task ControlAddress_IsOnAnotherPortUnderTheReservedPrefix()
    {
        await StartHostAsync();

        Assert.Multiple(() =>
        {
            Assert.That(Host.ControlAddress.Host, Is.EqualTo("127.0.0.1"));
            Assert.That(Host.ControlAddress.Port, Is.Not.EqualTo(Host.GatewayAddress.Port));
            Assert.That(Host.ControlAddress.AbsolutePath, Is.EqualTo("/_emulator/"));
        });
    }

    [Test]
    public async Task GatewayPort_ControlPath_IsTheGatewaysNotFoundAndDoesNothing()
    {
        await StartHostAsync();
        var token = await GetTokenAsync();

        using var response = await Gateway.PostAsync("_emulator/revoke", null);

        Assert.Multiple(async () =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("""{"detail":"Not found."}"""));
            Assert.That(await PingAsync(token), Is.EqualTo(HttpStatusCode.OK), "nothing revoked");
        });
    }

    [Test]
    public async Task ControlPort_TokenPath_IsNotFoundNamingTheGatewayAndIssuesNoToken()
    {
        await StartHostAsync();
        using var control = Track(new HttpClient { BaseAddress = new Uri(Host.ControlAddress, "/") });

        using var response = await control.PostAsync("oauth/token", new FormUrlEncodedContent([
            new("grant_type", "client_credentials"), new("client_id", ClientA), new("client_secret", SecretA),
        ]));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(body, Does.Contain("control port").And.Contain(Host.GatewayAddress.ToString()));
            Assert.That(Host.Emulator.TokenRequestCount, Is.Zero);
        });
    }

    [TestCase("/_emulatorx/counters")]
    [TestCase("/_emulator/count")]
    [TestCase("/_emulator/revoke/all")]
    public async Task UnknownPath_AnswersNotFound(string path)
    {
        await StartHostAsync();

        var answer = await SendAsync(HttpMethod.Get, new Uri(Host.ControlAddress, path).ToString(), null);

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(answer.Error, Is.Not.Empty);
        });
    }

    [Test]
    public async Task TrailingSlash_IsTolerated()
    {
        await StartHostAsync();

        var answer = await GetAsync("counters/");

        Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.OK));
    }

    [TestCase("GET", "revoke", "POST")]
    [TestCase("POST", "counters", "GET")]
    [TestCase("POST", "", "GET")]
    [TestCase("DELETE", "settings", "GET, POST")]
    [TestCase("POST", "clients/agency-a", "DELETE")]
    [TestCase("GET", "users", "POST")]
    public async Task WrongMethod_AnswersMethodNotAllowedWithAllow(string method, string path, string allow)
    {
        await StartHostAsync();
        var token = await GetTokenAsync();

        var answer = await SendAsync(new HttpMethod(method), path, null);

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.MethodNotAllowed));
            Assert.That(string.Join(", ", answer.Allow), Is.EqualTo(allow));
            Assert.That(answer.Error, Does.Contain(method));
            Assert.That(await PingAsync(token), Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task OriginHeader_IsRefusedSoAWebPageCannotDriveTheEmulator()
    {
        await StartHostAsync();
        var token = await GetTokenAsync();

        var answer = await SendAsync(HttpMethod.Post, "revoke", null, r => r.Headers.Add("Origin", "https://attacker.example"));

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(answer.Error, Does.Contain("Origin"));
            Assert.That(await PingAsync(token), Is.EqualTo(HttpStatusCode.OK), "nothing revoked");
        });
    }

    [TestCase("attacker.example")]
    [TestCase("10.0.0.1")]
    public async Task NonLoopbackHost_IsRefusedAgainstDnsRebinding(string host)
    {
        await StartHostAsync();

        var answer = await SendAsync(HttpMethod.Post, "reject", null, r => r.Headers.Host = host);

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(answer.Error, Does.Contain("loopback"));
            Assert.That(Host.Emulator.RejectAllTokens, Is.False);
        });
    }

    [TestCase("localhost")]
    [TestCase("127.0.0.1")]
    [TestCase("[::1]")]
    public async Task LoopbackHost_IsServed(string host)
    {
        await StartHostAsync();

        var answer = await SendAsync(HttpMethod.Get, "counters", null, r => r.Headers.Host = $"{host}:{Host.ControlAddress.Port}");

        Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Body_LargerThanTheLimit_AnswersPayloadTooLarge()
    {
        await StartHostAsync();
        var body = "{\"status\":503,\"body\":\"" + new string('x', ControlApi.MaxBodyBytes) + "\"}";

        using var response = await Control.PostAsync("faults", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
    }

    [Test]
    public async Task JsonBody_WithoutJsonContentType_IsAccepted()
    {
        // curl -d sends application/x-www-form-urlencoded unless told otherwise.
        await StartHostAsync();

        using var response = await Control.PostAsync("faults", new StringContent("""{"status":503}""", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
