using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace RapidSos.Http.Auth.Testing.Tests;

[TestFixture(EmulatorHosting.Kestrel)]
[TestFixture(EmulatorHosting.InMemory)]
public sealed class ProtectedApiTests : EmulatorTestBase
{
    private const string InvalidTokenBody =
        "{\"fault\":{\"faultstring\":\"Invalid Access Token\",\"detail\":{\"errorcode\":\"keymanagement.service.invalid_access_token\"}}}";

    private const string ExpiredTokenBody =
        "{\"fault\":{\"faultstring\":\"Access Token expired\",\"detail\":{\"errorcode\":\"keymanagement.service.access_token_expired\"}}}";

    public ProtectedApiTests(EmulatorHosting hosting)
        : base(hosting)
    {
    }

    [Test]
    public async Task Ping_ValidToken_ReturnsStatusOk()
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);

        using var response = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(body, Is.EqualTo("{\"status\":\"ok\"}"));
            Assert.That(emulator.ApiRequestCount, Is.EqualTo(1));
            Assert.That(emulator.Requests.Last().Token, Is.EqualTo(token));
        });
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("Bearer ")]
    [TestCase("bearer {token}")]
    [TestCase("BEARER {token}")]
    [TestCase("Bearer  {token}")]
    [TestCase("Basic {token}")]
    [TestCase("{token}")]
    [TestCase("Bearer unknown-token")]
    public async Task Ping_AuthorizationNotExactlyBearerValidToken_ReturnsInvalidAccessToken(string? authorization)
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);

        using var response = await GetWithTokenAsync(client, "v1/ping", authorization?.Replace("{token}", token, StringComparison.Ordinal));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
            Assert.That(body, Is.EqualTo(InvalidTokenBody));
            Assert.That(emulator.UnauthorizedCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task RevokeToken_IssuedToken_ThatTokenIsRefusedOthersStillWork()
    {
        var (emulator, client) = await StartAsync();
        var revoked = await GetTokenAsync(client);
        var kept = await GetTokenAsync(client);

        var first = emulator.RevokeToken(revoked);
        var second = emulator.RevokeToken(revoked);
        using var revokedResponse = await GetWithTokenAsync(client, "v1/ping", "Bearer " + revoked);
        using var keptResponse = await GetWithTokenAsync(client, "v1/ping", "Bearer " + kept);
        var revokedBody = await revokedResponse.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.True);
            Assert.That(second, Is.False);
            Assert.That(revokedResponse.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(revokedBody, Is.EqualTo(InvalidTokenBody));
            Assert.That(keptResponse.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task RevokeAllTokens_TokensIssuedBefore_AreRefusedAndNewTokensWork()
    {
        var (emulator, client) = await StartAsync();
        var first = await GetTokenAsync(client);
        var second = await GetTokenAsync(client);

        emulator.RevokeAllTokens();
        var fresh = await GetTokenAsync(client);
        using var firstResponse = await GetWithTokenAsync(client, "v1/ping", "Bearer " + first);
        using var secondResponse = await GetWithTokenAsync(client, "v1/ping", "Bearer " + second);
        using var freshResponse = await GetWithTokenAsync(client, "v1/ping", "Bearer " + fresh);
        var firstBody = await firstResponse.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(firstResponse.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(firstBody, Is.EqualTo(InvalidTokenBody));
            Assert.That(secondResponse.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(freshResponse.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(emulator.IssuedTokens, Is.EqualTo(new[] { first, second, fresh }));
        });
    }

    [Test]
    public async Task RevokeClientTokens_OneClient_ItsTokensOfBothGrantsRefusedOthersAndLaterOnesWork()
    {
        var (emulator, client) = await StartAsync();
        emulator.AddClient("agency-b", "secret-b");
        var clientToken = await GetTokenAsync(client);
        var userToken = await GetUserTokenAsync(client);
        var otherClientToken = await GetTokenAsync(client, "agency-b", "secret-b");
        var otherClientUserToken = await GetUserTokenAsync(client, clientId: "agency-b", clientSecret: "secret-b");

        emulator.RevokeClientTokens(ClientId);
        var fresh = await GetTokenAsync(client);
        var statuses = new List<HttpStatusCode>();
        foreach (var token in new[] { clientToken, userToken, otherClientToken, otherClientUserToken, fresh })
        {
            using var response = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);
            statuses.Add(response.StatusCode);
        }

        using var revoked = await GetWithTokenAsync(client, "v1/ping", "Bearer " + clientToken);
        var body = await revoked.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(statuses, Is.EqualTo(new[]
            {
                HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK,
            }));
            Assert.That(body, Is.EqualTo(InvalidTokenBody));
        });
    }

    [Test]
    public async Task RevokeUserTokens_OneUser_TheirTokensThroughAnyClientRefusedOthersAndLaterOnesWork()
    {
        var (emulator, client) = await StartAsync();
        emulator.AddClient("agency-b", "secret-b");
        emulator.AddUser("other-user", "other-password");
        var userToken = await GetUserTokenAsync(client);
        var userTokenThroughOtherClient = await GetUserTokenAsync(client, clientId: "agency-b", clientSecret: "secret-b");
        var otherUserToken = await GetUserTokenAsync(client, "other-user", "other-password");
        var clientToken = await GetTokenAsync(client);

        emulator.RevokeUserTokens(Username);
        var fresh = await GetUserTokenAsync(client);
        var statuses = new List<HttpStatusCode>();
        foreach (var token in new[] { userToken, userTokenThroughOtherClient, otherUserToken, clientToken, fresh })
        {
            using var response = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);
            statuses.Add(response.StatusCode);
        }

        Assert.That(statuses, Is.EqualTo(new[]
        {
            HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK,
        }));
    }

    [Test]
    public async Task RevokeToken_TokenAlreadyRevokedWithItsClient_ReturnsFalse()
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);

        emulator.RevokeClientTokens(ClientId);

        Assert.That(emulator.RevokeToken(token), Is.False);
    }

    [Test]
    public async Task RevokeToken_TokenAlreadyRevokedWithAll_ReturnsFalse()
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);

        emulator.RevokeAllTokens();

        Assert.That(emulator.RevokeToken(token), Is.False);
    }

    [Test]
    public async Task RejectAllTokens_SetThenCleared_RefusesOnlyWhileSet()
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);

        emulator.RejectAllTokens = true;
        using var rejected = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);
        var rejectedBody = await rejected.Content.ReadAsStringAsync();
        using var tokenWhileRejecting = await client.PostAsync("oauth/token", ClientCredentialsForm());
        emulator.RejectAllTokens = false;
        using var accepted = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);

        Assert.Multiple(() =>
        {
            Assert.That(rejected.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(rejectedBody, Is.EqualTo(InvalidTokenBody));
            Assert.That(tokenWhileRejecting.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(emulator.UnauthorizedCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Ping_TimeAdvancedPastExpiresIn_ReturnsAccessTokenExpired()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (_, client) = await StartAsync(new RapidSosGatewayEmulatorOptions { TimeProvider = time });
        var token = await GetTokenAsync(client);

        time.Advance(TimeSpan.FromSeconds(3599));
        using var justBefore = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);
        time.Advance(TimeSpan.FromSeconds(1));
        using var atExpiry = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);
        var body = await atExpiry.Content.ReadAsStringAsync();
        var fresh = await GetTokenAsync(client);
        using var freshResponse = await GetWithTokenAsync(client, "v1/ping", "Bearer " + fresh);

        Assert.Multiple(() =>
        {
            Assert.That(justBefore.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(atExpiry.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(body, Is.EqualTo(ExpiredTokenBody));
            Assert.That(freshResponse.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task TokenLifetime_Shortened_NewTokensExpireSooner()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (emulator, client) = await StartAsync(new RapidSosGatewayEmulatorOptions { TimeProvider = time });
        var longLived = await GetTokenAsync(client);
        emulator.TokenLifetime = TimeSpan.FromSeconds(10);
        var shortLived = await GetTokenAsync(client);

        time.Advance(TimeSpan.FromSeconds(10));
        using var longResponse = await GetWithTokenAsync(client, "v1/ping", "Bearer " + longLived);
        using var shortResponse = await GetWithTokenAsync(client, "v1/ping", "Bearer " + shortLived);

        Assert.Multiple(() =>
        {
            Assert.That(longResponse.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(shortResponse.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        });
    }

    [Test]
    public async Task RevokeToken_ExpiredToken_ReportsInvalidRatherThanExpired()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (emulator, client) = await StartAsync(new RapidSosGatewayEmulatorOptions { TimeProvider = time });
        var token = await GetTokenAsync(client);
        time.Advance(TimeSpan.FromHours(2));

        emulator.RevokeToken(token);
        using var response = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);
        var body = await response.Content.ReadAsStringAsync();

        Assert.That(body, Is.EqualTo(InvalidTokenBody));
    }

    [TestCase("POST")]
    [TestCase("PUT")]
    public async Task Echo_BinaryBody_ReturnsBodyAndContentTypeIntact(string method)
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);
        var payload = Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray();
        using var content = new ByteArrayContent(payload);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.rapidsos.test+octet");
        using var request = new HttpRequestMessage(new HttpMethod(method), "v1/echo") { Content = content };
        request.Headers.Authorization = Bearer(token);

        using var response = await client.SendAsync(request);
        var echoed = await response.Content.ReadAsByteArrayAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(echoed, Is.EqualTo(payload));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/vnd.rapidsos.test+octet"));
            Assert.That(emulator.Requests.Last().Body.ToArray(), Is.EqualTo(payload));
        });
    }

    [Test]
    public async Task Echo_Utf8JsonBody_ReturnsSameText()
    {
        var (_, client) = await StartAsync();
        var token = await GetTokenAsync(client);
        const string Json = "{\"caller\":\"Zoë Ünal\",\"note\":\"+&=% 🚑\"}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/echo") { Content = new StringContent(Json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = Bearer(token);

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(text, Is.EqualTo(Json));
            Assert.That(response.Content.Headers.ContentType?.ToString(), Is.EqualTo("application/json; charset=utf-8"));
        });
    }

    [Test]
    public async Task Echo_GetWithoutBody_ReturnsEmptyBody()
    {
        var (_, client) = await StartAsync();
        var token = await GetTokenAsync(client);

        using var response = await GetWithTokenAsync(client, "v1/echo", "Bearer " + token);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(body, Is.Empty);
        });
    }

    [Test]
    public async Task Api_UnknownPathWithValidToken_ReturnsNotFoundDetail()
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);

        using var response = await GetWithTokenAsync(client, "v1/alerts", "Bearer " + token);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(body, Is.EqualTo("{\"detail\":\"Not found.\"}"));
            Assert.That(emulator.ApiRequestCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Api_UnknownPathWithoutToken_ChecksTokenFirst()
    {
        var (_, client) = await StartAsync();

        using var response = await GetWithTokenAsync(client, "v1/alerts", null);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task Ping_Delete_ReturnsMethodNotAllowed()
    {
        var (_, client) = await StartAsync();
        var token = await GetTokenAsync(client);
        using var request = new HttpRequestMessage(HttpMethod.Delete, "v1/ping");
        request.Headers.Authorization = Bearer(token);

        using var response = await client.SendAsync(request);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed));
            Assert.That(response.Content.Headers.Allow, Is.EqualTo(new[] { "GET" }));
        });
    }
}
