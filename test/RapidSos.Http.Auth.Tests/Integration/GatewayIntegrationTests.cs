using System.Net;
using System.Text;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Tests.Integration;

/// <summary>End to end over loopback HTTP against the RapidSOS gateway emulator on Kestrel.</summary>
public class GatewayIntegrationTests
{
    private const string HardSecret = "p@ss&word=+% é";

    [Test]
    public async Task Ping_FirstCallThenCachedCalls_OneTokenRequestWithSandboxShapedResponse()
    {
        await using var f = await GatewayFixture.StartAsync();

        for (var i = 0; i < 10; i++)
        {
            using var response = await f.Api.GetAsync("v1/ping");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(f.Gateway.TokenRequestCount, Is.EqualTo(1));
        Assert.That(f.Gateway.ApiRequestCount, Is.EqualTo(10));
        var token = f.Gateway.IssuedTokens.Single();
        Assert.That(f.Gateway.Requests.Where(r => r.IsApiRequest).Select(r => r.Headers["Authorization"]), Has.All.EqualTo("Bearer " + token));
    }

    [Test]
    public async Task Token_ExpiresAt_IsLocalSendTimePlusExpiresIn()
    {
        await using var f = await GatewayFixture.StartAsync(g => g.TokenLifetime = TimeSpan.FromSeconds(3599));
        var sentAt = f.Time.GetUtcNow();

        var token = await f.Tokens.GetTokenAsync();

        Assert.That(token.ExpiresAt, Is.EqualTo(sentAt.AddSeconds(3599)));
    }

    [Test]
    public async Task ClientSecretWithReservedCharacters_IsEscapedAndAccepted()
    {
        await using var f = await GatewayFixture.StartAsync(g => g.ClientSecret = HardSecret);

        using var response = await f.Api.GetAsync("v1/ping");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(f.Gateway.TokenRequests.Single().Form["client_secret"], Is.EqualTo(HardSecret));
    }

    [Test]
    public async Task PasswordGrant_PostsToV2EndpointAndAuthenticates()
    {
        await using var f = await GatewayFixture.StartAsync(
            g => g.Password = HardSecret,
            o =>
            {
                o.GrantType = RapidSosGrantType.Password;
                o.Username = "emulator-user";
                o.Password = HardSecret;
            });

        using var response = await f.Api.GetAsync("v1/ping");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var request = f.Gateway.TokenRequests.Single();
        Assert.That(request.Path, Is.EqualTo("/oauth/v2/token"));
        Assert.That(request.Form["grant_type"], Is.EqualTo("password"));
        Assert.That(request.Form["password"], Is.EqualTo(HardSecret));
    }

    [Test]
    public async Task BasicHeaderAndScopeAndTrailingSlashEndpoint_AreAccepted()
    {
        await using var f = await GatewayFixture.StartAsync(auth: o =>
        {
            o.ClientAuthentication = RapidSosClientAuthentication.BasicHeader;
            o.Scope = "alerts";
            o.TokenEndpoint = new Uri(o.BaseAddress, "oauth/token/");
        });

        using var response = await f.Api.GetAsync("v1/ping");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var request = f.Gateway.TokenRequests.Single();
        Assert.That(request.Headers["Authorization"], Does.StartWith("Basic "));
        Assert.That(request.Form.ContainsKey("client_secret"), Is.False);
        Assert.That(request.Form["scope"], Is.EqualTo("alerts"));
    }

    [TestCase(false, false)]
    [TestCase(true, true)]
    public async Task ResponseQuirks_MisspelledTokenAndJsonNumbers_AreTolerated(bool misspell, bool numbersAsStrings)
    {
        await using var f = await GatewayFixture.StartAsync(g =>
        {
            g.MisspellAccessToken = misspell;
            g.NumbersAsStrings = numbersAsStrings;
            g.TokenTypeValue = "Bearer";
        });

        using var response = await f.Api.GetAsync("v1/ping");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task ColdStampede_500ConcurrentCallersWithSlowTokenEndpoint_OneTokenRequest()
    {
        await using var f = await GatewayFixture.StartAsync(g => g.TokenLatency = TimeSpan.FromMilliseconds(50));
        var api = f.Api;

        var responses = await Task.WhenAll(Enumerable.Range(0, 500).Select(_ => Task.Run(() => api.GetAsync("v1/ping"))));

        Assert.That(responses.Select(r => r.StatusCode), Has.All.EqualTo(HttpStatusCode.OK));
        Assert.That(f.Gateway.TokenRequestCount, Is.EqualTo(1));
    }

    [Test]
    public async Task RevokedToken_ManyConcurrentCallers_OneRefreshAndEverybodySucceeds()
    {
        await using var f = await GatewayFixture.StartAsync(g => g.TokenLatency = TimeSpan.FromMilliseconds(20));
        var api = f.Api;
        (await api.GetAsync("v1/ping")).Dispose();

        f.Gateway.RevokeAllTokens();
        var responses = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => Task.Run(() => api.GetAsync("v1/ping"))));

        Assert.That(responses.Select(r => r.StatusCode), Has.All.EqualTo(HttpStatusCode.OK));
        Assert.That(f.Gateway.TokenRequestCount, Is.EqualTo(2));
        Assert.That(f.Logs.GetSnapshot().Count(r => r.Id.Id == 5), Is.GreaterThan(0), "the self-healing retry is logged");
    }

    [Test]
    public async Task RevokedToken_PostWithNonSeekableBody_ArrivesIntactOnRetry()
    {
        await using var f = await GatewayFixture.StartAsync();
        (await f.Api.GetAsync("v1/ping")).Dispose();
        f.Gateway.RevokeAllTokens();
        var payload = Encoding.UTF8.GetBytes("{\"alert\":\"fall detected\",\"lat\":40.7,\"lng\":-74.0}");

        using var content = new StreamContent(new ReadOnceStream(payload));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await f.Api.PostAsync("v1/echo", content);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsByteArrayAsync(), Is.EqualTo(payload));
        var echoes = f.Gateway.Requests.Where(r => r.Path == "/v1/echo").ToArray();
        Assert.That(echoes, Has.Length.EqualTo(2));
        Assert.That(echoes.Select(e => e.Body.ToArray()), Has.All.EqualTo(payload));
    }

    [Test]
    public async Task ApiRejectsEveryToken_SecondUnauthorizedIsReturnedNotLooped()
    {
        await using var f = await GatewayFixture.StartAsync();
        f.Gateway.RejectAllTokens = true;

        using var response = await f.Api.GetAsync("v1/ping");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(f.Gateway.ApiRequestCount, Is.EqualTo(2));
        Assert.That(f.Gateway.TokenRequestCount, Is.EqualTo(2));
    }

    [Test]
    public async Task NearExpiry_RefreshAheadReplacesTokenBeforeTheGatewayWouldReject()
    {
        await using var f = await GatewayFixture.StartAsync(g => g.TokenLifetime = TimeSpan.FromSeconds(3600), o => o.RefreshBeforeExpiry = TimeSpan.FromMinutes(5));
        (await f.Api.GetAsync("v1/ping")).Dispose();

        f.Time.Advance(TimeSpan.FromMinutes(56));
        (await f.Api.GetAsync("v1/ping")).Dispose();
        await Poll.UntilAsync(() => f.Gateway.SuccessfulTokenRequestCount == 2, "the second successful token request at the gateway");
        f.Time.Advance(TimeSpan.FromMinutes(5));
        using var afterOldExpiry = await f.Api.GetAsync("v1/ping");

        Assert.That(afterOldExpiry.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(f.Gateway.UnauthorizedCount, Is.Zero, "no caller may see an expired token");
    }

    [Test]
    public async Task TokenEndpointOutageDuringRefreshAhead_CallersNeverSeeIt()
    {
        await using var f = await GatewayFixture.StartAsync(o => o.TokenLifetime = TimeSpan.FromSeconds(3600));
        (await f.Api.GetAsync("v1/ping")).Dispose();
        f.Gateway.EnqueueFault(EmulatorFault.Html(503));
        f.Gateway.EnqueueFault(EmulatorFault.ConnectionReset());

        f.Time.Advance(TimeSpan.FromMinutes(56));
        for (var i = 0; i < 20; i++)
        {
            using var response = await f.Api.GetAsync("v1/ping");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        // Each failed attempt is logged once its retry is scheduled; only then does advancing time reach it.
        await Poll.UntilAsync(() => f.Logs.GetSnapshot().Count(r => r.Id.Id == 4) == 1, "the first refresh-failed warning");
        f.Time.Advance(TimeSpan.FromSeconds(2));
        (await f.Api.GetAsync("v1/ping")).Dispose();
        await Poll.UntilAsync(() => f.Logs.GetSnapshot().Count(r => r.Id.Id == 4) == 2, "the second refresh-failed warning");
        f.Time.Advance(TimeSpan.FromSeconds(4));
        (await f.Api.GetAsync("v1/ping")).Dispose();
        await Poll.UntilAsync(() => f.Gateway.SuccessfulTokenRequestCount == 2, "the second successful token request at the gateway");

        f.Time.Advance(TimeSpan.FromMinutes(5));
        using var last = await f.Api.GetAsync("v1/ping");
        Assert.That(last.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(f.Gateway.UnauthorizedCount, Is.Zero);
    }

    [Test]
    public async Task WrongSecret_ThrowsWithGatewayMessageAndSendsNoApiRequest()
    {
        await using var f = await GatewayFixture.StartAsync(auth: o => o.ClientSecret = "wrong-secret");

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(() => f.Api.GetAsync("v1/ping"));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(ex.Detail, Does.Contain("Client credentials are invalid"));
        Assert.That(ex.Message, Does.Contain(f.Gateway.TokenEndpoint.ToString()));
        Assert.That(ex.Message, Does.Not.Contain("wrong-secret"));
        Assert.That(f.Gateway.ApiRequestCount, Is.Zero);
    }

    private static IEnumerable<TestCaseData> Faults()
    {
        yield return new TestCaseData(EmulatorFault.Detail(500, "Internal server error"), HttpStatusCode.InternalServerError, "Internal server error");
        yield return new TestCaseData(EmulatorFault.TooManyRequests(TimeSpan.FromSeconds(3)), HttpStatusCode.TooManyRequests, "Too many requests");
        yield return new TestCaseData(EmulatorFault.InvalidClient(), HttpStatusCode.Unauthorized, "invalid_client");
        yield return new TestCaseData(EmulatorFault.Fault(500, "Gateway Timeout", "messaging.adaptors.http.flow.GatewayTimeout"), HttpStatusCode.InternalServerError, "Gateway Timeout");
        yield return new TestCaseData(EmulatorFault.OAuthError(400, "invalid_request", "Missing grant_type"), HttpStatusCode.BadRequest, "Missing grant_type");
        yield return new TestCaseData(EmulatorFault.Html(502), HttpStatusCode.BadGateway, "HTML");
        yield return new TestCaseData(EmulatorFault.Empty(503), HttpStatusCode.ServiceUnavailable, "no body");
        yield return new TestCaseData(EmulatorFault.MalformedJson(), HttpStatusCode.OK, "not a valid token response");
        yield return new TestCaseData(EmulatorFault.ConnectionReset(), null, "could not");
    }

    [TestCaseSource(nameof(Faults))]
    public async Task TokenEndpointFault_SurfacesAsAuthenticationExceptionThenRecovers(EmulatorFault fault, HttpStatusCode? status, string message)
    {
        await using var f = await GatewayFixture.StartAsync();
        f.Gateway.EnqueueFault(fault);

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(() => f.Api.GetAsync("v1/ping"));

        Assert.That(ex!.StatusCode, Is.EqualTo(status));
        Assert.That(ex.Message, Does.Contain(message));
        Assert.That(f.Gateway.ApiRequestCount, Is.Zero, "no request without a token");
        Assert.That(ex.RetryAfter, Is.Not.Null, "callers can read when a new token request may go out");
        if (ex.RetryAfter > TimeSpan.Zero)
        {
            // Refused or rate-limited: a caller inside the window fails at once, without a token request.
            var sent = f.Gateway.TokenRequestCount;
            var again = Assert.ThrowsAsync<RapidSosAuthenticationException>(() => f.Api.GetAsync("v1/ping"));
            Assert.That(again!.StatusCode, Is.EqualTo(status));
            Assert.That(again.RetryAfter, Is.GreaterThan(TimeSpan.Zero).And.LessThanOrEqualTo(ex.RetryAfter));
            Assert.That(f.Gateway.TokenRequestCount, Is.EqualTo(sent));
            f.Time.Advance(ex.RetryAfter.Value);
        }

        using var recovered = await f.Api.GetAsync("v1/ping");
        Assert.That(recovered.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task SynchronousSend_UsesAndRefreshesTokens()
    {
        await using var f = await GatewayFixture.StartAsync();
        var api = f.Api;

        using (var first = api.Send(new HttpRequestMessage(HttpMethod.Get, "v1/ping")))
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        f.Gateway.RevokeAllTokens();
        using var second = api.Send(new HttpRequestMessage(HttpMethod.Post, "v1/echo") { Content = new StreamContent(new ReadOnceStream([7, 8, 9])) });

        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(f.Gateway.TokenRequestCount, Is.EqualTo(2));
        Assert.That(f.Gateway.Requests.Last().Body.ToArray(), Is.EqualTo(new byte[] { 7, 8, 9 }));
    }

}
