using System.Text;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

public class ErrorResponseTests
{
    private static string? Describe(string body, string? mediaType = "application/json", string? secret = null, string? password = null) =>
        ErrorResponse.Describe(Encoding.UTF8.GetBytes(body), mediaType, secret is null ? SecretScrubber.None : SecretScrubber.For(secret, password, basicClientId: null));

    [TestCase("""{"detail":"Invalid user credentials."}""", "Invalid user credentials.")]
    [TestCase("""{"ErrorCode":"invalid_client","Error":"Client credentials are invalid"}""", "Client credentials are invalid (invalid_client)")]
    [TestCase("""{"fault":{"faultstring":"Access Token expired","detail":{"errorcode":"keymanagement.service.access_token_expired"}}}""", "Access Token expired (keymanagement.service.access_token_expired)")]
    [TestCase("""{"error":"invalid_client"}""", "invalid_client")]
    [TestCase("""{"error":"invalid_request","error_description":"Missing grant_type"}""", "Missing grant_type (invalid_request)")]
    [TestCase("""{"message":"Service Unavailable"}""", "Service Unavailable")]
    [TestCase("""{"detail":{"nested":"object"}}""", null)]
    [TestCase("""{"request":{"client_secret":"x"}}""", null)]
    [TestCase("""["detail","x"]""", null)]
    [TestCase("""{"detail":"broken""", null)]
    [TestCase("client_secret=x&password=y", null)]
    [TestCase("bad \\u0022 escape", null)]
    [TestCase("upstream connect error\r\n or disconnect", "upstream connect error or disconnect")]
    [TestCase("   ", null)]
    public void Describe_GatewayShapes_ExtractsMessage(string body, string? expected) =>
        Assert.That(Describe(body), Is.EqualTo(expected));

    [Test]
    public void Describe_HtmlPage_UsesTitle() =>
        Assert.That(Describe("<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head></html>", "text/html"),
            Is.EqualTo("an HTML error page: 503 Service Temporarily Unavailable"));

    [Test]
    public void Describe_HtmlWithoutTitle_SaysHtml() =>
        Assert.That(Describe("<html><body>Bad gateway</body></html>", "text/html"), Is.EqualTo("an HTML error page"));

    [Test]
    public void Describe_HtmlByMediaTypeOnly_UsesTitle() =>
        Assert.That(Describe("\uFEFF<html><head><title>504 Gateway Time-out</title></head></html>", "text/html"),
            Is.EqualTo("an HTML error page: 504 Gateway Time-out"));

    [Test]
    public void Describe_HtmlTitle_IsEntityDecodedAndScrubbed() =>
        Assert.That(Describe("<html><head><title>Bad &amp; rejected: secret-1</title></head></html>", "text/html", secret: "secret-1"),
            Is.EqualTo("an HTML error page: Bad & rejected: ***"));

    [Test]
    public void Describe_EchoedSecretWithLowercasePercentEncoding_IsScrubbed() =>
        Assert.That(Describe("""{"detail":"bad secret a%3db%2fc"}""", "application/json", secret: "a=b/c"), Is.EqualTo("bad secret ***"));

    [Test]
    public void Describe_LongText_IsBoundedToOneShortLine()
    {
        var text = Describe(new string('x', 1_000) + "\n" + new string('y', 100), "text/plain");

        Assert.That(text!.Length, Is.LessThanOrEqualTo(301));
        Assert.That(text, Does.Not.Contain("\n"));
    }

    [Test]
    public void Describe_EchoedSecret_IsScrubbedEvenWhenEscaped()
    {
        var text = Describe("""{"detail":"bad secret p@ss&word / p%40ss%26word"}""", "application/json", secret: "p@ss&word");

        Assert.That(text, Is.EqualTo("bad secret *** / ***"));
    }

    [Test]
    public void Describe_EchoedSecretInJsonField_IsScrubbedInEveryEscape()
    {
        // The field's value is itself JSON text: the secret se"cr\et/Zz9 and the password Grüße-Passwört, escaped.
        const string Body = """{"detail":"echo {\"client_secret\":\"se\\\"cr\\\\et\\/Zz9\",\"password\":\"Gr\\u00fc\\u00DFe-Passw\\u00f6rt\"}"}""";

        var text = Describe(Body, secret: "se\"cr\\et/Zz9", password: "Grüße-Passwört");

        Assert.That(text, Is.EqualTo("echo {\"client_secret\":\"***\",\"password\":\"***\"}"));
    }

    [Test]
    public void Describe_UnknownShapes_AreNeverShown()
    {
        Assert.That(Describe("""{"detail":{"echo":"Zz9"}}""", secret: "Zz9"), Is.Null);
        Assert.That(Describe("client_secret=a%40b+c%26d", "text/plain", "a@b c&d"), Is.Null);
    }

    [TestCase("""{"detail":{"echo":1}}""", "application/json", "the gateway answered 401 with a JSON body the library does not recognise")]
    [TestCase("""{"detail":""", "application/json", "the gateway answered 401 with a body that starts like JSON but is not valid JSON")]
    [TestCase("a=b&c=d", "text/plain", "the gateway answered 401 with a text body the library does not show (it is not plain prose)")]
    [TestCase("", "text/plain", "the response had no body")]
    public void ToException_UnshownBody_SaysItsKindAndStatus(string body, string mediaType, string expected)
    {
        var settings = TokenRequestSettings.From("", new RapidSosAuthOptions { ClientId = "id", ClientSecret = "s", BaseAddress = new Uri("https://api.example.com/") });

        var exception = ErrorResponse.ToException(System.Net.HttpStatusCode.Unauthorized, Encoding.UTF8.GetBytes(body), mediaType, retryAfter: null, settings);

        Assert.That(exception.Message, Does.Contain("): " + expected + "."));
        Assert.That(exception.Detail, Is.Null);
    }
}
