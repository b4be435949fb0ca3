using System.Text;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

public class TokenRequestSettingsTests
{
    private static RapidSosAuthOptions Options(Action<RapidSosAuthOptions>? change = null)
    {
        var options = new RapidSosAuthOptions { BaseAddress = new Uri("https://api.test.example/"), ClientId = "client-1", ClientSecret = "s3cr=t&+ é" };
        change?.Invoke(options);
        return options;
    }

    [Test]
    public async Task CreateRequest_ClientCredentials_PostsEscapedFormToOauthToken()
    {
        using var request = TokenRequestSettings.From("", Options()).CreateRequest();

        Assert.That(request.Method, Is.EqualTo(HttpMethod.Post));
        Assert.That(request.RequestUri, Is.EqualTo(new Uri("https://api.test.example/oauth/token")));
        Assert.That(await request.Content!.ReadAsStringAsync(), Is.EqualTo("grant_type=client_credentials&client_id=client-1&client_secret=s3cr%3Dt%26%2B+%C3%A9"));
        Assert.That(request.Headers.CacheControl!.NoStore, Is.True);
    }

    [Test]
    public async Task CreateRequest_PasswordGrant_SendsAllFiveFieldsToOauthV2Token()
    {
        using var request = TokenRequestSettings.From("", Options(o =>
        {
            o.GrantType = RapidSosGrantType.Password;
            o.Username = "dispatcher";
            o.Password = "pw";
            o.Scope = "alerts";
        })).CreateRequest();

        Assert.That(request.RequestUri!.AbsolutePath, Is.EqualTo("/oauth/v2/token"));
        Assert.That(await request.Content!.ReadAsStringAsync(), Is.EqualTo("grant_type=password&client_id=client-1&client_secret=s3cr%3Dt%26%2B+%C3%A9&username=dispatcher&password=pw&scope=alerts"));
    }

    [Test]
    public async Task CreateRequest_BasicHeader_CredentialsInHeaderNotForm()
    {
        using var request = TokenRequestSettings.From("", Options(o => o.ClientAuthentication = RapidSosClientAuthentication.BasicHeader)).CreateRequest();

        Assert.That(request.Headers.Authorization!.Scheme, Is.EqualTo("Basic"));
        Assert.That(await request.Content!.ReadAsStringAsync(), Is.EqualTo("grant_type=client_credentials"));
    }

    [Test]
    public void CreateRequest_BasicHeader_FormEncodesIdAndSecretBeforeBase64AsRfc6749Says()
    {
        // RFC 6749 section 2.3.1: an OAuth2 server decodes both parts as application/x-www-form-urlencoded, so a raw
        // '+' would reach it as a space and a raw ':' in the id would split the pair in the wrong place.
        using var request = TokenRequestSettings.From("", Options(o =>
        {
            o.ClientId = "agency:7 +1";
            o.ClientSecret = "a+b%c d&e=f:g/h\"ü😀";
            o.ClientAuthentication = RapidSosClientAuthentication.BasicHeader;
        })).CreateRequest();

        var expected = "agency%3A7+%2B1:a%2Bb%25c+d%26e%3Df%3Ag%2Fh%22%C3%BC%F0%9F%98%80";
        Assert.That(request.Headers.Authorization!.Parameter, Is.EqualTo(Convert.ToBase64String(Encoding.ASCII.GetBytes(expected))));
    }

    [Test]
    public void Endpoint_BaseAddressWithPathAndNoSlash_AppendsTheTokenPath() =>
        Assert.That(TokenRequestSettings.From("", Options(o => o.BaseAddress = new Uri("https://api.test.example/gateway"))).Endpoint,
            Is.EqualTo(new Uri("https://api.test.example/gateway/oauth/token")));

    [Test]
    public void Endpoint_CustomTokenEndpoint_IsUsedAsIsAndShownWithoutUserInfoOrQuery()
    {
        var settings = TokenRequestSettings.From("", Options(o => o.TokenEndpoint = new Uri("https://user:pw@edx-sandbox.rapidsos.com/oauth/token/?x=1")));

        Assert.That(settings.Endpoint.AbsoluteUri, Is.EqualTo("https://user:pw@edx-sandbox.rapidsos.com/oauth/token/?x=1"));
        Assert.That(settings.DisplayEndpoint.AbsoluteUri, Is.EqualTo("https://edx-sandbox.rapidsos.com/oauth/token/"));
    }

    [Test]
    public void Key_DiffersWithTheSecretAndNeverContainsIt()
    {
        var first = TokenRequestSettings.From("a", Options()).Key;
        var same = TokenRequestSettings.From("b", Options()).Key;
        var rotated = TokenRequestSettings.From("a", Options(o => o.ClientSecret = "other")).Key;

        Assert.That(same, Is.EqualTo(first), "the registration name is not part of the credential set");
        Assert.That(rotated, Is.Not.EqualTo(first));
        Assert.That(first.ToString() + first.CredentialHash, Does.Not.Contain("s3cr"));
    }

    [Test]
    public void Scrubber_MasksSecretAndPassword()
    {
        var settings = TokenRequestSettings.From("", Options(o =>
        {
            o.GrantType = RapidSosGrantType.Password;
            o.Username = "u";
            o.Password = "pw";
        }));

        Assert.That(settings.Scrubber.Scrub("s3cr=t&+ é and pw"), Is.EqualTo("*** and ***"));
    }
}
