using System.Net;
using System.Text;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Internal;

/// <summary>
/// Token responses from a broken or hostile gateway: whatever arrives, the caller sees either a usable token or
/// a <see cref="RapidSosAuthenticationException"/> with a clear message; never another exception, never a hang,
/// never unbounded memory.
/// </summary>
public class HostileTokenResponseTests
{
    private static readonly Uri s_endpoint = new("https://api.test.example/oauth/token");
    private static readonly string[] s_fields = ["access_token", "acces_token", "expires_in", "token_type", "issued_at", "scope", "api_product_list", "developer.email"];

    private static readonly string[] s_values =
    [
        "0", "-1", "-0", "3599", "3599.5", "1e30", "1e308", "1e400", "-1e400", "123456789012345678901234567890",
        "\"3599\"", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"\"", "\" 60 \"", "\"0x10\"", "\"1,000\"",
        "true", "false", "null", "{}", "[]", "[1,2]", "{\"a\":{\"b\":[]}}",
        "\"AbCdEfGhIjKl\"", "\"tok\\r\\nX-Evil: 1\"", "\"tök\"", "\"a b\"", "\"\\u0000\"", "\"\\ud800\"",
    ];

    [Test]
    public void Parse_GeneratedObjectsWithWrongTypesInEveryField_OnlyTokenOrAuthenticationException()
    {
        var random = new Random(20261127);
        var outcomes = new Dictionary<string, int> { ["token"] = 0, ["refused"] = 0 };
        for (var i = 0; i < 20_000; i++)
        {
            var json = new StringBuilder("{");
            var count = random.Next(0, 6);
            for (var f = 0; f < count; f++)
            {
                if (f > 0)
                {
                    json.Append(',');
                }

                json.Append('"').Append(s_fields[random.Next(s_fields.Length)]).Append("\":").Append(s_values[random.Next(s_values.Length)]);
            }

            json.Append('}');
            try
            {
                var (token, lifetime) = TokenResponseParser.Parse(Encoding.UTF8.GetBytes(json.ToString()), s_endpoint);
                Assert.That(AccessToken.IsValidTokenValue(token, out _), Is.True, json.ToString());
                Assert.That(lifetime, Is.GreaterThan(TimeSpan.Zero).And.LessThanOrEqualTo(TimeSpan.FromDays(1)), json.ToString());
                outcomes["token"]++;
            }
            catch (RapidSosAuthenticationException ex)
            {
                Assert.That(ex.Message, Does.Contain("cannot be used"));
                outcomes["refused"]++;
            }
        }

        Assert.That(outcomes["token"], Is.GreaterThan(100), "the generator must also produce valid responses");
        Assert.That(outcomes["refused"], Is.GreaterThan(100));
    }

    [Test]
    public void GetTokenAsync_TenMegabyteBody_RefusedWithBoundedMemory()
    {
        using var h = new ProviderHarness();
        var body = Encoding.UTF8.GetBytes("{\"access_token\":\"" + new string('a', 10 * 1024 * 1024) + "\"}");
        h.Endpoint.Respond = (_, _) => new HttpResponseMessage(HttpStatusCode.OK)
        {
            // No Content-Length: the cap must hold while streaming, not only on the declared length.
            Content = new StreamContent(new ReadOnceStream(body)),
        };

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.That(ex!.Message, Does.Contain("larger than 64 KiB"));
        Assert.That(allocated, Is.LessThan(4 * 1024 * 1024), "reading must stop at the cap");
    }

    [Test]
    public void GetTokenAsync_ErrorStatusWithHugeBody_RefusedAtCap()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.BadGateway, "<html>" + new string('x', 5 * 1024 * 1024) + "</html>");

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.Message, Does.Contain("larger than 64 KiB"));
    }

    [TestCase("{\"access_token\":\"abc\\r\\nX-Injected: yes\",\"expires_in\":3599}")]
    [TestCase("{\"access_token\":\"abc\\nSet-Cookie: a=b\"}")]
    [TestCase("{\"access_token\":\"ab\\u0000c\"}")]
    [TestCase("{\"access_token\":\"t\\u00f6ken\"}")]
    public void GetTokenAsync_TokenThatWouldInjectHeaders_IsRefusedAndNeverSent(string json)
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.OK, json);
        var api = new RecordingApiHandler();
        var handler = new BearerTokenHandler(h.Provider, h.Options.Get("")) { InnerHandler = api };
        using var client = new HttpClient(handler) { BaseAddress = new Uri("https://api.test.example/") };

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(() => client.GetAsync("v1/ping"));

        Assert.That(ex!.Message, Does.Contain("refused rather than sent in a header"));
        Assert.That(api.Sends, Is.Empty);
    }
}
