using System.Text;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

public class TokenResponseParserTests
{
    private static readonly Uri s_endpoint = new("https://api.test.example/oauth/token");

    private static (string Token, TimeSpan Lifetime) Parse(string json) => TokenResponseParser.Parse(Encoding.UTF8.GetBytes(json), s_endpoint);

    [Test]
    public void Parse_RealSandboxResponseAllStrings_ReadsTokenAndLifetime()
    {
        var (token, lifetime) = Parse("""{"access_token":"AbCdEfGhIjKlMnOpQrStUvWxYz12","token_type":"BearerToken","issued_at":"1513793277823","expires_in":"3599"}""");

        Assert.That(token, Is.EqualTo("AbCdEfGhIjKlMnOpQrStUvWxYz12"));
        Assert.That(lifetime, Is.EqualTo(TimeSpan.FromSeconds(3599)));
    }

    [Test]
    public void Parse_NumbersAsNumbersAndBearerType_ReadsTokenAndLifetime()
    {
        var (token, lifetime) = Parse("""{"access_token":"t1","token_type":"Bearer","issued_at":1605805540651,"expires_in":3599}""");

        Assert.That(token, Is.EqualTo("t1"));
        Assert.That(lifetime, Is.EqualTo(TimeSpan.FromSeconds(3599)));
    }

    [Test]
    public void Parse_Utf8ByteOrderMarkBeforeTheJson_IsAccepted()
    {
        var body = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("""{"access_token":"t-bom","expires_in":"60"}""")).ToArray();

        var (token, lifetime) = TokenResponseParser.Parse(body, s_endpoint);

        Assert.That((token, lifetime), Is.EqualTo(("t-bom", TimeSpan.FromSeconds(60))));
    }

    [Test]
    public void Parse_MisspelledAccessToken_IsAccepted() =>
        Assert.That(Parse("""{"acces_token":"t2","expires_in":"60"}""").Token, Is.EqualTo("t2"));

    [Test]
    public void Parse_ApigeeExtraFields_AreIgnored()
    {
        var (token, _) = Parse("""
            {"refresh_token_expires_in":"0","api_product_list":"[emergency-data]","api_product_list_json":["emergency-data"],
             "organization_name":"rapidsos","developer.email":"dev@example.com","token_type":"BearerToken","issued_at":"1513793277823",
             "client_id":"abc","access_token":"t3","application_name":"x","scope":"","expires_in":"3599","refresh_count":"0","status":"approved",
             "nested":{"deep":[1,2,{"a":null}]}}
            """);

        Assert.That(token, Is.EqualTo("t3"));
    }

    [Test]
    public void Parse_NoExpiresIn_Defaults3600() =>
        Assert.That(Parse("""{"access_token":"t"}""").Lifetime, Is.EqualTo(TimeSpan.FromSeconds(3600)));

    [Test]
    public void Parse_HugeExpiresIn_IsClampedToOneDay() =>
        Assert.That(Parse("""{"access_token":"t","expires_in":1e30}""").Lifetime, Is.EqualTo(TimeSpan.FromDays(1)));

    [TestCase("""{"access_token":"t","expires_in":"0"}""", "expires_in is 0")]
    [TestCase("""{"access_token":"t","expires_in":-5}""", "expires_in is -5")]
    [TestCase("""{"access_token":"t","expires_in":"NaN"}""", "expires_in is NaN")]
    [TestCase("""{"access_token":"t","expires_in":"Infinity"}""", "expires_in is ")]
    [TestCase("""{"access_token":"t","expires_in":1e-9}""", "expires_in is 1E-09")]
    [TestCase("""{"access_token":"t","expires_in":"0.4"}""", "expires_in is 0.4")]
    [TestCase("""{"access_token":"t","expires_in":-0.0}""", "expires_in is -0")]
    [TestCase("""{"access_token":"t","expires_in":"soon"}""", "not a valid token response")]
    [TestCase("""{"access_token":"t","expires_in":{"s":1}}""", "not a valid token response")]
    [TestCase("""{"access_token":123}""", "not a valid token response")]
    [TestCase("""{"token_type":"Bearer"}""", "no access_token")]
    [TestCase("""{"access_token":""}""", "no access_token")]
    [TestCase("""{"access_token":"a\r\nSet-Cookie: x=1"}""", "line break")]
    [TestCase("""{"access_token":"tök"}""", "non-ASCII")]
    [TestCase("""{"access_token":"t" """, "not a valid token response")]
    [TestCase("""[1,2,3]""", "not a valid token response")]
    [TestCase("null", "empty or JSON null")]
    [TestCase("", "not a valid token response")]
    [TestCase("<html>oops</html>", "not a valid token response")]
    public void Parse_UnusableBody_ThrowsAuthenticationExceptionNamingProblem(string json, string problem)
    {
        var ex = Assert.Throws<RapidSosAuthenticationException>(() => Parse(json));

        Assert.That(ex!.Message, Does.Contain(problem));
        Assert.That(ex.Message, Does.Contain(s_endpoint.ToString()));
        Assert.That(ex.Message, Does.Not.Contain("ArgumentOutOfRange").And.Not.Contain("Parameter '"), "no framework exception text");
    }

    [TestCase("0.6", 1)]
    [TestCase("1.4", 1)]
    [TestCase("3599.5", 3600)]
    public void Parse_FractionalExpiresIn_IsRoundedToWholeSeconds(string expiresIn, int seconds) =>
        Assert.That(Parse($$"""{"access_token":"t","expires_in":"{{expiresIn}}"}""").Lifetime, Is.EqualTo(TimeSpan.FromSeconds(seconds)));

    [Test]
    public async Task GetTokenAsync_ExpiresInBelowOneSecond_FailsWithClearErrorThroughTheProvider()
    {
        using var h = new Helpers.ProviderHarness();
        h.Endpoint.Respond = (_, _) => Helpers.StubTokenEndpoint.Json(System.Net.HttpStatusCode.OK, """{"access_token":"t","expires_in":1e-9}""");

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.Message, Does.Contain("expires_in is 1E-09"));
        Assert.That(ex.InnerException, Is.Null.Or.TypeOf<RapidSosAuthenticationException>());
        await Task.CompletedTask;
    }

    [TestCase("""{"request":{"client_secret_Zz9q8":tru}}""")]
    [TestCase("""{"Zz9q8":[1,}""")]
    [TestCase("""{"access_token":"t","expires_in":"Zz9q8"}""")]
    public void Parse_MalformedBodyEchoingTheRequest_NeitherMessageNorToStringQuotesIt(string json)
    {
        var ex = Assert.Throws<RapidSosAuthenticationException>(() => Parse(json));

        Assert.That(ex!.ToString(), Does.Not.Contain("Zz9q8"));
        Assert.That(ex.Message, Does.Contain("malformed JSON at line 1").Or.Contain("unexpected value at $.expires_in"));
    }

    [Test]
    public void Parse_DeepNesting_ThrowsAuthenticationException()
    {
        var json = "{\"x\":" + new string('[', 10_000) + new string(']', 10_000) + ",\"access_token\":\"t\"}";

        Assert.Throws<RapidSosAuthenticationException>(() => Parse(json));
    }

    [Test]
    public void Parse_RandomBytes_OnlyEverThrowsAuthenticationException()
    {
        var random = new Random(12345);
        var seeds = new[]
        {
            """{"access_token":"AbCd","token_type":"BearerToken","issued_at":"1513793277823","expires_in":"3599"}""",
            """{"acces_token":"x","expires_in":3599,"api_product_list":"[a, b]"}""",
        };
        for (var i = 0; i < 5_000; i++)
        {
            byte[] body;
            if (i % 3 == 0)
            {
                body = new byte[random.Next(0, 200)];
                random.NextBytes(body);
            }
            else
            {
                body = Encoding.UTF8.GetBytes(seeds[i % seeds.Length]);
                for (var m = random.Next(1, 6); m > 0 && body.Length > 0; m--)
                {
                    switch (random.Next(3))
                    {
                        case 0: body[random.Next(body.Length)] = (byte)random.Next(256); break;
                        case 1: body = body[..random.Next(body.Length)]; break;
                        default: body = [.. body, .. body[..random.Next(body.Length)]]; break;
                    }
                }
            }

            try
            {
                var (token, lifetime) = TokenResponseParser.Parse(body, s_endpoint);
                Assert.That(token, Is.Not.Empty);
                Assert.That(lifetime, Is.GreaterThan(TimeSpan.Zero).And.LessThanOrEqualTo(TimeSpan.FromDays(1)));
                Assert.That(AccessToken.IsValidTokenValue(token, out _), Is.True);
            }
            catch (RapidSosAuthenticationException)
            {
            }
        }
    }
}
