using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace RapidSos.Http.Auth.Testing.Tests;

[TestFixture(EmulatorHosting.Kestrel)]
[TestFixture(EmulatorHosting.InMemory)]
public sealed class TokenEndpointTests : EmulatorTestBase
{
    private const string InvalidClientBody = "{\"ErrorCode\":\"invalid_client\",\"Error\":\"Client credentials are invalid\"}";

    public TokenEndpointTests(EmulatorHosting hosting)
        : base(hosting)
    {
    }

    [Test]
    public async Task TokenEndpoint_ValidClientCredentials_ReturnsSandboxShapedResponse()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2017, 12, 20, 18, 7, 57, 823, TimeSpan.Zero));
        var (emulator, client) = await StartAsync(new RapidSosGatewayEmulatorOptions { TimeProvider = time });

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm());
        using var json = await ReadJsonAsync(response);
        var root = json.RootElement;

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
            Assert.That(response.Headers.CacheControl?.NoStore, Is.True);
            foreach (var property in root.EnumerateObject())
            {
                Assert.That(property.Value.ValueKind, Is.EqualTo(JsonValueKind.String), property.Name);
            }

            Assert.That(root.GetProperty("access_token").GetString(), Does.Match("^[A-Za-z0-9_-]{28}$"));
            Assert.That(root.GetProperty("access_token").GetString(), Is.EqualTo(emulator.IssuedTokens.Single()));
            Assert.That(root.GetProperty("token_type").GetString(), Is.EqualTo("BearerToken"));
            Assert.That(root.GetProperty("issued_at").GetString(), Is.EqualTo("1513793277823"));
            Assert.That(root.GetProperty("expires_in").GetString(), Is.EqualTo("3600"));
            Assert.That(root.GetProperty("api_product_list").GetString(), Is.EqualTo("[emergency-data]"));
            Assert.That(root.GetProperty("developer.email").GetString(), Is.EqualTo("dev@example.com"));
            Assert.That(root.GetProperty("status").GetString(), Is.EqualTo("approved"));
            Assert.That(root.GetProperty("refresh_token").GetString(), Is.Empty);
            Assert.That(root.GetProperty("refresh_token_expires_in").GetString(), Is.EqualTo("0"));
            Assert.That(root.GetProperty("scope").GetString(), Is.Empty);
            Assert.That(emulator.SuccessfulTokenRequestCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task TokenEndpoint_ScopeSent_EchoesAndRecordsScope()
    {
        var (emulator, client) = await StartAsync();

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm(scope: "alerts"));
        using var json = await ReadJsonAsync(response);

        Assert.Multiple(() =>
        {
            Assert.That(json.RootElement.GetProperty("scope").GetString(), Is.EqualTo("alerts"));
            Assert.That(emulator.TokenRequests.Single().Form["scope"], Is.EqualTo("alerts"));
        });
    }

    [Test]
    public async Task TokenEndpoint_QuirkOptionsSet_ResponseFollowsThem()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_605_805_540));
        var (_, client) = await StartAsync(new RapidSosGatewayEmulatorOptions
        {
            TimeProvider = time,
            TokenTypeValue = "Bearer",
            MisspellAccessToken = true,
            NumbersAsStrings = false,
            IssuedAtInMilliseconds = false,
            TokenLifetime = TimeSpan.FromSeconds(3599.9),
        });

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm());
        using var json = await ReadJsonAsync(response);
        var root = json.RootElement;

        Assert.Multiple(() =>
        {
            Assert.That(root.TryGetProperty("access_token", out _), Is.False);
            Assert.That(root.GetProperty("acces_token").GetString(), Has.Length.EqualTo(28));
            Assert.That(root.GetProperty("token_type").GetString(), Is.EqualTo("Bearer"));
            Assert.That(root.GetProperty("issued_at").ValueKind, Is.EqualTo(JsonValueKind.Number));
            Assert.That(root.GetProperty("issued_at").GetInt64(), Is.EqualTo(1_605_805_540));
            Assert.That(root.GetProperty("expires_in").ValueKind, Is.EqualTo(JsonValueKind.Number));
            Assert.That(root.GetProperty("expires_in").GetInt64(), Is.EqualTo(3599), "whole seconds, rounded down");
            Assert.That(root.GetProperty("refresh_token_expires_in").GetInt64(), Is.Zero);
        });
    }

    [Test]
    public async Task TokenLifetime_ChangedAtRunTime_AppliesToNextToken()
    {
        var (emulator, client) = await StartAsync();

        emulator.TokenLifetime = TimeSpan.FromSeconds(42);
        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm());
        using var json = await ReadJsonAsync(response);

        Assert.That(json.RootElement.GetProperty("expires_in").GetString(), Is.EqualTo("42"));
    }

    [TestCase("oauth/token")]
    [TestCase("oauth/token/")]
    [TestCase("oauth/v2/token")]
    [TestCase("oauth/v2/token/")]
    public async Task TokenEndpoint_ClientCredentialsOnEveryPath_IssuesToken(string path)
    {
        var (emulator, client) = await StartAsync();

        using var response = await client.PostAsync(path, ClientCredentialsForm());

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(emulator.TokenRequests.Single().IsTokenRequest, Is.True);
            Assert.That(emulator.SuccessfulTokenRequestCount, Is.EqualTo(1));
        });
    }

    [TestCase("oauth/token")]
    [TestCase("oauth/v2/token")]
    [TestCase("oauth/v2/token/")]
    public async Task TokenEndpoint_PasswordGrantOnEitherEndpoint_IssuesJwtShapedTokenThatWorks(string path)
    {
        var (_, client) = await StartAsync();

        using var response = await client.PostAsync(path, PasswordForm());
        using var json = await ReadJsonAsync(response);
        var token = json.RootElement.GetProperty("access_token").GetString()!;
        using var ping = new HttpRequestMessage(HttpMethod.Get, "v1/ping") { Headers = { Authorization = Bearer(token) } };
        using var pingResponse = await client.SendAsync(ping);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(token.Split('.'), Has.Length.EqualTo(3));
            Assert.That(token, Does.Match("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$"));
            Assert.That(pingResponse.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task TokenEndpoint_BasicAuthorizationHeader_IssuesTokenAndRecordsClientId()
    {
        var (emulator, client) = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "oauth/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
            Headers = { Authorization = new AuthenticationHeaderValue("Basic", BasicHeader(ClientId, ClientSecret)) },
        };

        using var response = await client.SendAsync(request);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(emulator.TokenRequests.Single().ClientId, Is.EqualTo(ClientId));
        });
    }

    [TestCase("emulator-client", "wrong-secret")]
    [TestCase("unknown-client", "emulator-secret")]
    public async Task TokenEndpoint_BasicAuthorizationWithBadCredentials_ReturnsInvalidClient(string clientId, string clientSecret)
    {
        var (_, client) = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "oauth/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
            Headers = { Authorization = new AuthenticationHeaderValue("Basic", BasicHeader(clientId, clientSecret)) },
        };

        using var response = await client.SendAsync(request);

        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(body, Is.EqualTo(InvalidClientBody));
        });
    }

    [TestCase("not base64!")]
    [TestCase("bm8tY29sb24=")]
    public async Task TokenEndpoint_MalformedBasicHeader_ReturnsInvalidClient(string credentials)
    {
        var (_, client) = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "oauth/token") { Content = ClientCredentialsForm() };
        request.Headers.TryAddWithoutValidation("Authorization", "Basic " + credentials);

        using var response = await client.SendAsync(request);

        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(body, Is.EqualTo(InvalidClientBody));
        });
    }

    [Test]
    public async Task AddClient_SecretWithReservedCharacters_AcceptedWhenFormEncoded()
    {
        const string Id = "client id+&=";
        const string Secret = "p@ss&word=+% é";
        var (emulator, client) = await StartAsync();
        emulator.AddClient(Id, Secret);

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm(Id, Secret));

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(emulator.TokenRequests.Single().Form["client_secret"], Is.EqualTo(Secret));
            Assert.That(emulator.TokenRequests.Single().ClientId, Is.EqualTo(Id));
        });
    }

    [Test]
    public async Task AddClient_SecretWithReservedCharacters_AcceptedFormEncodedInBasicHeader()
    {
        const string Secret = "p@ss&word=+% é:colon";
        var (emulator, client) = await StartAsync();
        emulator.AddClient("basic-client", Secret);
        using var request = new HttpRequestMessage(HttpMethod.Post, "oauth/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
            Headers = { Authorization = new AuthenticationHeaderValue("Basic", BasicHeader("basic-client", Secret)) },
        };

        using var response = await client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task AddClient_SecretWithPlusSentUnencodedInBasicHeader_IsRefusedAsAnOAuth2ServerWould()
    {
        // Decoded as RFC 6749 says, the raw '+' is a space: the secret does not match.
        var (emulator, client) = await StartAsync();
        emulator.AddClient("basic-client", "a+b");
        using var request = new HttpRequestMessage(HttpMethod.Post, "oauth/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
            Headers = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("basic-client:a+b"))) },
        };

        using var response = await client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task AddClient_SecretSentWithoutEscaping_IsRefused()
    {
        var (emulator, client) = await StartAsync();
        emulator.AddClient("c", "p@ss&word=+% é");

        using var response = await client.PostAsync("oauth/token", RawForm("grant_type=client_credentials&client_id=c&client_secret=p@ss&word=+% é"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task AddClient_ExistingClient_ReplacesSecret()
    {
        var (emulator, client) = await StartAsync();
        emulator.AddClient(ClientId, "rotated");

        using var oldSecret = await client.PostAsync("oauth/token", ClientCredentialsForm());
        using var newSecret = await client.PostAsync("oauth/token", ClientCredentialsForm(ClientId, "rotated"));

        Assert.Multiple(() =>
        {
            Assert.That(oldSecret.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(newSecret.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task AddUser_NewUser_PasswordGrantAccepted()
    {
        var (emulator, client) = await StartAsync();
        emulator.AddUser("dispatcher@psap.example", "s3cret&+");

        using var response = await client.PostAsync("oauth/v2/token", PasswordForm("dispatcher@psap.example", "s3cret&+"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task AddClient_ExistingClient_TokensIssuedBeforeStayValid()
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);

        emulator.AddClient(ClientId, "rotated");
        using var ping = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);

        Assert.That(ping.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [TestCase(ClientId, "wrong-secret")]
    [TestCase("unknown-client", ClientSecret)]
    public async Task TokenEndpoint_PasswordGrantWithValidUserButBadClient_ReturnsInvalidClient(string clientId, string clientSecret)
    {
        var (_, client) = await StartAsync();

        using var response = await client.PostAsync("oauth/v2/token", PasswordForm(clientId: clientId, clientSecret: clientSecret));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(body, Is.EqualTo(InvalidClientBody));
        });
    }

    [Test]
    public async Task AddUser_BoundToClient_PasswordGrantAcceptedOnlyThroughThatClient()
    {
        var (emulator, client) = await StartAsync();
        emulator.AddClient("agency-a", "secret-a");
        emulator.AddClient("agency-b", "secret-b");
        emulator.AddUser("agency-a", "tc@agency-a.example", "pw-a");

        using var ownAgency = await client.PostAsync("oauth/v2/token", PasswordForm("tc@agency-a.example", "pw-a", "agency-a", "secret-a"));
        using var otherAgency = await client.PostAsync("oauth/v2/token", PasswordForm("tc@agency-a.example", "pw-a", "agency-b", "secret-b"));
        var otherBody = await otherAgency.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(ownAgency.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(otherAgency.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(otherBody, Is.EqualTo("{\"detail\":\"Invalid user credentials.\"}"));
        });
    }

    [Test]
    public async Task AddUser_WithoutClientAfterBoundToOne_AcceptedThroughAnyClient()
    {
        var (emulator, client) = await StartAsync();
        emulator.AddClient("agency-a", "secret-a");
        emulator.AddUser("agency-a", Username, "old");

        emulator.AddUser(Username, Password);
        using var response = await client.PostAsync("oauth/v2/token", PasswordForm());

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task RemoveClient_KnownClient_RefusesItsTokenRequestsAndRevokesItsTokensOfBothGrants()
    {
        var (emulator, client) = await StartAsync();
        emulator.AddClient("agency-b", "secret-b");
        var clientToken = await GetTokenAsync(client);
        var userToken = await GetUserTokenAsync(client);
        var otherAgencyToken = await GetTokenAsync(client, "agency-b", "secret-b");

        var removed = emulator.RemoveClient(ClientId);
        var removedAgain = emulator.RemoveClient(ClientId);
        using var tokenRequest = await client.PostAsync("oauth/token", ClientCredentialsForm());
        var tokenRequestBody = await tokenRequest.Content.ReadAsStringAsync();
        using var clientPing = await GetWithTokenAsync(client, "v1/ping", "Bearer " + clientToken);
        using var userPing = await GetWithTokenAsync(client, "v1/ping", "Bearer " + userToken);
        using var otherPing = await GetWithTokenAsync(client, "v1/ping", "Bearer " + otherAgencyToken);

        Assert.Multiple(() =>
        {
            Assert.That(removed, Is.True);
            Assert.That(removedAgain, Is.False);
            Assert.That(tokenRequest.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(tokenRequestBody, Is.EqualTo(InvalidClientBody));
            Assert.That(clientPing.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(userPing.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(otherPing.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task RemoveClient_ThenAddedAgain_NewTokensWorkAndOldOnesStayRevoked()
    {
        var (emulator, client) = await StartAsync();
        var oldToken = await GetTokenAsync(client);

        emulator.RemoveClient(ClientId);
        emulator.AddClient(ClientId, "new-secret");
        var newToken = await GetTokenAsync(client, ClientId, "new-secret");
        using var oldPing = await GetWithTokenAsync(client, "v1/ping", "Bearer " + oldToken);
        using var newPing = await GetWithTokenAsync(client, "v1/ping", "Bearer " + newToken);

        Assert.Multiple(() =>
        {
            Assert.That(oldPing.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(newPing.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task RemoveUser_KnownUser_RefusesTheirPasswordGrantAndRevokesOnlyTheirTokens()
    {
        var (emulator, client) = await StartAsync();
        emulator.AddUser("other-user", "other-password");
        var userToken = await GetUserTokenAsync(client);
        var otherUserToken = await GetUserTokenAsync(client, "other-user", "other-password");
        var clientToken = await GetTokenAsync(client);

        var removed = emulator.RemoveUser(Username);
        var removedAgain = emulator.RemoveUser(Username);
        using var passwordGrant = await client.PostAsync("oauth/v2/token", PasswordForm());
        var passwordGrantBody = await passwordGrant.Content.ReadAsStringAsync();
        using var userPing = await GetWithTokenAsync(client, "v1/ping", "Bearer " + userToken);
        using var otherUserPing = await GetWithTokenAsync(client, "v1/ping", "Bearer " + otherUserToken);
        using var clientPing = await GetWithTokenAsync(client, "v1/ping", "Bearer " + clientToken);

        Assert.Multiple(() =>
        {
            Assert.That(removed, Is.True);
            Assert.That(removedAgain, Is.False);
            Assert.That(passwordGrant.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(passwordGrantBody, Is.EqualTo("{\"detail\":\"Invalid user credentials.\"}"));
            Assert.That(userPing.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(otherUserPing.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(clientPing.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [TestCase("unknown-client", ClientSecret)]
    [TestCase(ClientId, "wrong-secret")]
    [TestCase("EMULATOR-CLIENT", ClientSecret)]
    public async Task TokenEndpoint_BadClientCredentials_ReturnsInvalidClient(string clientId, string clientSecret)
    {
        var (emulator, client) = await StartAsync();

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm(clientId, clientSecret));

        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
            Assert.That(body, Is.EqualTo(InvalidClientBody));
            Assert.That(emulator.SuccessfulTokenRequestCount, Is.Zero);
        });
    }

    [TestCase(Username, "wrong-password")]
    [TestCase("unknown-user", Password)]
    public async Task TokenEndpoint_BadUserCredentials_ReturnsInvalidUserCredentials(string username, string password)
    {
        var (_, client) = await StartAsync();

        using var response = await client.PostAsync("oauth/v2/token", PasswordForm(username, password));

        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(body, Is.EqualTo("{\"detail\":\"Invalid user credentials.\"}"));
        });
    }

    [TestCase("client_id=emulator-client&client_secret=emulator-secret", "Missing required parameter: grant_type.")]
    [TestCase("grant_type=client_credentials&client_secret=emulator-secret", "Missing required parameter: client_id.")]
    [TestCase("grant_type=client_credentials&client_id=emulator-client", "Missing required parameter: client_secret.")]
    [TestCase("grant_type=client_credentials&client_id=emulator-client&client_secret=", "Missing required parameter: client_secret.")]
    [TestCase("grant_type=password&client_id=emulator-client&client_secret=emulator-secret&password=x", "Missing required parameter: username.")]
    [TestCase("grant_type=password&client_id=emulator-client&client_secret=emulator-secret&username=x", "Missing required parameter: password.")]
    [TestCase("grant_type=authorization_code&client_id=emulator-client&client_secret=emulator-secret", "Unsupported grant type: authorization_code.")]
    [TestCase("grant_type=client_credentials&clientId=emulator-client&client_id=emulator-client&client_secret=emulator-secret", "Unknown parameter: clientId.")]
    [TestCase("grant_type=client_credentials&client_id=emulator-client&client_id=emulator-client&client_secret=emulator-secret", "Parameter client_id must not be sent more than once.")]
    [TestCase("", "Missing required parameter: grant_type.")]
    public async Task TokenEndpoint_BadForm_ReturnsBadRequestDetail(string body, string detail)
    {
        var (emulator, client) = await StartAsync();

        using var response = await client.PostAsync("oauth/token", RawForm(body));
        using var json = await ReadJsonAsync(response);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(json.RootElement.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "detail" }));
            Assert.That(json.RootElement.GetProperty("detail").GetString(), Is.EqualTo(detail));
            Assert.That(emulator.TokenRequestCount, Is.EqualTo(1));
            Assert.That(emulator.SuccessfulTokenRequestCount, Is.Zero);
        });
    }

    [Test]
    public async Task TokenEndpoint_JsonBody_ReturnsBadRequestNamingMediaType()
    {
        var (_, client) = await StartAsync();
        var body = "{\"client_id\":\"emulator-client\",\"client_secret\":\"emulator-secret\",\"grant_type\":\"client_credentials\"}";

        using var response = await client.PostAsync("oauth/token", new StringContent(body, Encoding.UTF8, "application/json"));
        using var json = await ReadJsonAsync(response);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(json.RootElement.GetProperty("detail").GetString(), Does.Contain("application/json").And.Contain("application/x-www-form-urlencoded"));
        });
    }

    [Test]
    public async Task TokenEndpoint_NoContentType_ReturnsBadRequestDetail()
    {
        var (_, client) = await StartAsync();
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("grant_type=client_credentials"));

        using var response = await client.PostAsync("oauth/token", content);
        using var json = await ReadJsonAsync(response);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(json.RootElement.GetProperty("detail").GetString(), Does.Contain("Content-Type"));
        });
    }

    [Test]
    public async Task TokenEndpoint_FormContentTypeWithCharset_IsAccepted()
    {
        var (_, client) = await StartAsync();
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("grant_type=client_credentials&client_id=emulator-client&client_secret=emulator-secret"));
        content.Headers.TryAddWithoutValidation("Content-Type", "Application/X-WWW-Form-Urlencoded; charset=UTF-8");

        using var response = await client.PostAsync("oauth/token", content);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task TokenEndpoint_Get_ReturnsMethodNotAllowedDetail()
    {
        var (_, client) = await StartAsync();

        using var response = await client.GetAsync("oauth/token");

        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed));
            Assert.That(response.Content.Headers.Allow, Is.EqualTo(new[] { "POST" }));
            Assert.That(body, Is.EqualTo("{\"detail\":\"Method \\\"GET\\\" not allowed.\"}"));
        });
    }

    [TestCase("oauth/tokens")]
    [TestCase("oauth/token//")]
    [TestCase("OAUTH/TOKEN")]
    [TestCase("")]
    [TestCase("v2/oauth/token")]
    public async Task UnknownPath_AnyRequest_ReturnsNotFoundDetail(string path)
    {
        var (emulator, client) = await StartAsync();

        using var response = await client.PostAsync(path, ClientCredentialsForm());

        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(body, Is.EqualTo("{\"detail\":\"Not found.\"}"));
            Assert.That(emulator.TokenRequestCount, Is.Zero);
            Assert.That(emulator.Requests.Single().IsTokenRequest, Is.False);
        });
    }
}
