using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Internal;

/// <summary>The token request on the wire and every way its answer can fail, through the real registration.</summary>
public class TokenEndpointClientTests
{
    [Test]
    public async Task GetTokenAsync_ClientCredentials_PostsEscapedFormToTokenEndpoint()
    {
        using var h = new ProviderHarness(o => o.Scope = "alerts");

        var token = await h.Provider.GetTokenAsync();

        Assert.That(token.Value, Is.EqualTo("token-1"));
        var request = h.Endpoint.Requests.Single();
        Assert.That(request.Method, Is.EqualTo(HttpMethod.Post));
        Assert.That(request.Uri, Is.EqualTo(new Uri("https://api.test.example/oauth/token")));
        Assert.That(request.MediaType, Is.EqualTo("application/x-www-form-urlencoded"));
        Assert.That(request.Authorization, Is.Null);
        Assert.That(request.Form, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = "client-1",
            ["client_secret"] = ProviderHarness.Secret,
            ["scope"] = "alerts",
        }));
        // Reserved characters are escaped, space is '+', and non-ASCII is UTF-8 percent-encoded.
        Assert.That(request.Body, Does.Contain("client_secret=s3cr3t-value-p%40ss%26word%3D%2B%25+%C3%A9"));
    }

    [Test]
    public async Task GetTokenAsync_PasswordGrant_SendsAllFiveFieldsToV2Endpoint()
    {
        using var h = new ProviderHarness(o =>
        {
            o.GrantType = RapidSosGrantType.Password;
            o.Username = "dispatcher@psap.example";
            o.Password = ProviderHarness.UserPassword;
        });

        await h.Provider.GetTokenAsync();

        var request = h.Endpoint.Requests.Single();
        Assert.That(request.Uri, Is.EqualTo(new Uri("https://api.test.example/oauth/v2/token")));
        Assert.That(request.Form, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["client_id"] = "client-1",
            ["client_secret"] = ProviderHarness.Secret,
            ["username"] = "dispatcher@psap.example",
            ["password"] = ProviderHarness.UserPassword,
        }));
    }

    [Test]
    public async Task GetTokenAsync_BasicHeader_SendsCredentialsInHeaderNotForm()
    {
        using var h = new ProviderHarness(o => o.ClientAuthentication = RapidSosClientAuthentication.BasicHeader);

        await h.Provider.GetTokenAsync();

        var request = h.Endpoint.Requests.Single();
        // RFC 6749 section 2.3.1: each part form-encoded before Base64.
        var expected = Convert.ToBase64String(Encoding.UTF8.GetBytes("client-1:" + Uri.EscapeDataString(ProviderHarness.Secret).Replace("%20", "+", StringComparison.Ordinal)));
        Assert.That(request.Authorization, Is.EqualTo("Basic " + expected));
        Assert.That(request.Form.Keys, Is.EquivalentTo(new[] { "grant_type" }));
    }

    [Test]
    public async Task GetTokenAsync_CustomTokenEndpoint_IsUsedAsIs()
    {
        using var h = new ProviderHarness(o => o.TokenEndpoint = new Uri("https://edx-sandbox.test.example/oauth/token/"));

        await h.Provider.GetTokenAsync();

        Assert.That(h.Endpoint.Requests.Single().Uri, Is.EqualTo(new Uri("https://edx-sandbox.test.example/oauth/token/")));
    }

    [Test]
    public async Task GetTokenAsync_BaseAddressWithPathAndNoSlash_AppendsTokenPath()
    {
        using var h = new ProviderHarness(o => o.BaseAddress = new Uri("https://api.test.example/gateway"));

        await h.Provider.GetTokenAsync();

        Assert.That(h.Endpoint.Requests.Single().Uri, Is.EqualTo(new Uri("https://api.test.example/gateway/oauth/token")));
    }

    [TestCase(HttpStatusCode.BadRequest, """{"detail":"Invalid user credentials."}""", "Invalid user credentials.")]
    [TestCase(HttpStatusCode.Unauthorized, """{"ErrorCode":"invalid_client","Error":"Client credentials are invalid"}""", "Client credentials are invalid (invalid_client)")]
    [TestCase(HttpStatusCode.Unauthorized, """{"fault":{"faultstring":"Invalid ApiKey","detail":{"errorcode":"oauth.v2.InvalidApiKey"}}}""", "Invalid ApiKey (oauth.v2.InvalidApiKey)")]
    [TestCase(HttpStatusCode.BadRequest, """{"error":"invalid_grant","error_description":"Bad password"}""", "Bad password (invalid_grant)")]
    [TestCase(HttpStatusCode.TooManyRequests, """{"detail":"Too many requests. Please try again later"}""", "Too many requests. Please try again later")]
    [TestCase(HttpStatusCode.NotFound, """{"detail":"Not found."}""", "Not found.")]
    [TestCase(HttpStatusCode.BadGateway, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", "an HTML error page: 502 Bad Gateway")]
    [TestCase(HttpStatusCode.ServiceUnavailable, "", null)]
    public void GetTokenAsync_ErrorResponse_ThrowsWithStatusGatewayMessageAndEndpoint(HttpStatusCode status, string body, string? detail)
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(status, body);

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.StatusCode, Is.EqualTo(status));
        Assert.That(ex.Detail, Is.EqualTo(detail));
        Assert.That(ex.TokenEndpoint, Is.EqualTo(new Uri("https://api.test.example/oauth/token")));
        Assert.That(ex.Message, Does.Contain("https://api.test.example/oauth/token"));
        Assert.That(ex.Message, Does.Contain(((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(ex.Message, Does.Contain(detail ?? "no body"));
        Assert.That(ex, Is.InstanceOf<HttpRequestException>());
    }

    [Test]
    public void GetTokenAsync_GatewayEchoesSecret_SecretIsScrubbedFromMessage()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.BadRequest,
            $$"""{"detail":"client_secret '{{ProviderHarness.Secret}}' is invalid"}""");

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.Message, Does.Not.Contain(ProviderHarness.Secret));
        Assert.That(ex.Detail, Is.EqualTo("client_secret '***' is invalid"));
    }

    [Test]
    public void GetTokenAsync_NetworkFailure_WrapsInnerException()
    {
        using var h = new ProviderHarness();
        var failure = new HttpRequestException("Connection refused (api.test.example:443)");
        h.Endpoint.Respond = (_, _) => throw failure;

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.InnerException, Is.SameAs(failure));
        Assert.That(ex.Message, Does.Contain("could not be reached"));
        Assert.That(ex.StatusCode, Is.Null);
    }

    [Test]
    public void GetTokenAsync_BackChannelTimeout_ThrowsAuthenticationExceptionNotCancellation()
    {
        using var h = new ProviderHarness(services: s => s.AddHttpClient(RapidSosAuthDefaults.TokenClientName, c => c.Timeout = TimeSpan.FromMilliseconds(50)));
        h.Endpoint.Hold();

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.Message, Does.Contain("timed out"));
        Assert.That(ex.InnerException, Is.InstanceOf<OperationCanceledException>());
        h.Endpoint.Release();
    }

    [Test]
    public void GetTokenAsync_ResponseLargerThanCap_IsRefusedWithoutReadingIt()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (_, _) => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(new EndlessStream()),
        };

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.Message, Does.Contain("larger than 64 KiB"));
    }

    [Test]
    public void GetTokenAsync_RedirectFromTokenEndpoint_IsAnErrorNotFollowed()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (_, _) =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.TemporaryRedirect);
            response.Headers.Location = new Uri("https://evil.example/steal");
            return response;
        };

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.TemporaryRedirect));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public void GetTokenAsync_DeclaredLengthAboveCap_IsRefusedWithoutReadingBody()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (_, _) =>
        {
            var content = new StreamContent(new UnreadableStream());
            content.Headers.ContentLength = 1L << 30;
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        };

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.Message, Does.Contain("larger than 64 KiB"));
    }

    [Test]
    public void GetTokenAsync_PasswordGrantGatewayEchoesPassword_PasswordIsScrubbed()
    {
        using var h = new ProviderHarness(o =>
        {
            o.GrantType = RapidSosGrantType.Password;
            o.Username = "dispatcher@psap.example";
            o.Password = ProviderHarness.UserPassword;
        });
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.BadRequest,
            $$"""{"detail":"password '{{ProviderHarness.UserPassword}}' is wrong"}""");

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.Message, Does.Not.Contain(ProviderHarness.UserPassword));
        Assert.That(ex.Detail, Is.EqualTo("password '***' is wrong"));
    }
}
