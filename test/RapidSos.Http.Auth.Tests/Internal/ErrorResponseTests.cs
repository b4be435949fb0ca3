using System.Text;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

public class ErrorResponseTests
{
    private static string? Describe(string body, string? mediaType = "application/json", params string[] secrets) =>
        ErrorResponse.Describe(Encoding.UTF8.GetBytes(body), mediaType, secrets);

    [TestCase("""{"detail":"Invalid user credentials."}""", "Invalid user credentials.")]
    [TestCase("""{"ErrorCode":"invalid_client","Error":"Client credentials are invalid"}""", "Client credentials are invalid (invalid_client)")]
    [TestCase("""{"fault":{"faultstring":"Access Token expired","detail":{"errorcode":"keymanagement.service.access_token_expired"}}}""", "Access Token expired (keymanagement.service.access_token_expired)")]
    [TestCase("""{"error":"invalid_client"}""", "invalid_client")]
    [TestCase("""{"error":"invalid_request","error_description":"Missing grant_type"}""", "Missing grant_type (invalid_request)")]
    [TestCase("""{"message":"Service Unavailable"}""", "Service Unavailable")]
    [TestCase("""{"detail":{"nested":"object"}}""", """{"detail":{"nested":"object"}}""")]
    [TestCase("""{"detail":"broken""", """{"detail":"broken""")]
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
        Assert.That(Describe("<html><head><title>Bad &amp; rejected: secret-1</title></head></html>", "text/html", "secret-1"),
            Is.EqualTo("an HTML error page: Bad & rejected: ***"));

    [Test]
    public void Describe_EchoedSecretWithLowercasePercentEncoding_IsScrubbed() =>
        Assert.That(Describe("""{"detail":"bad secret a%3db%2fc"}""", "application/json", "a=b/c"), Is.EqualTo("bad secret ***"));

    [Test]
    public void Describe_LongText_IsBoundedToOneShortLine()
    {
        var text = Describe(new string('x', 10_000) + "\n" + new string('y', 100), "text/plain");

        Assert.That(text!.Length, Is.LessThanOrEqualTo(301));
        Assert.That(text, Does.Not.Contain("\n"));
    }

    [Test]
    public void Describe_EchoedSecret_IsScrubbedEvenWhenEscaped()
    {
        var text = Describe("""{"detail":"bad secret p@ss&word / p%40ss%26word"}""", "application/json", "p@ss&word");

        Assert.That(text, Is.EqualTo("bad secret *** / ***"));
    }

    [Test]
    public void Describe_EchoedFormBodyWithSpaceInSecret_IsScrubbed() =>
        Assert.That(Describe("bad request body: client_secret=a%40b+c%26d", "text/plain", "a@b c&d"), Is.EqualTo("bad request body: client_secret=***"));
}
