using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Moq;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Testing;
using RapidSos.Http.Auth.Tests.Helpers;
using RapidSos.Http.Auth.Tests.Integration;

namespace RapidSos.Http.Auth.Tests.Probes;

/// <summary>
/// Issue 10's promises attacked from outside (secrets in every sink, bodies resent byte for byte, the back channel,
/// origins following reloads, userinfo, header redaction, the emulator's two forms): the probes that held, kept as
/// regression tests. Those that failed are in <see cref="EdgeDefectProbes"/>.
/// </summary>
[CancelAfter(10_000)]
public class EdgeProbes
{
    // ---- (1) secrets, every sink ----

    [Test]
    public async Task TokenError_DetailCutAt300RightInsideTheSecret_NoPrefixOfTheSecretShown()
    {
        using var h = new ProviderHarness();
        using var telemetry = new TelemetryCapture();
        var padding = new string('x', 290);
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, JsonSerializer.Serialize(new { detail = padding + ProviderHarness.Secret + " is wrong" }));

        var thrown = await EdgeProbeKit.FailureOf(() => h.Provider.GetTokenAsync().AsTask());

        var sinks = EdgeProbeKit.Sinks(thrown, h.Logs, telemetry);
        Assert.That(((RapidSosAuthenticationException)thrown).Detail, Does.Contain(padding + "***"));
        Assert.That(sinks, Does.Not.Contain(ProviderHarness.Secret[..6]));
    }

    [TestCase("Retry-After")]
    [TestCase("WWW-Authenticate")]
    [TestCase("X-Echo")]
    public async Task TokenError_HeaderEchoesTheSecret_NoSinkShowsIt(string header)
    {
        using var h = new ProviderHarness(o => o.ClientSecret = "hdr-echo-secret-77");
        using var telemetry = new TelemetryCapture();
        h.Endpoint.Respond = (_, _) =>
        {
            var response = StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}""");
            response.Headers.TryAddWithoutValidation(header, "Basic realm=\"hdr-echo-secret-77\"");
            return response;
        };

        var thrown = await EdgeProbeKit.FailureOf(() => h.Provider.GetTokenAsync().AsTask());

        Assert.That(EdgeProbeKit.Sinks(thrown, h.Logs, telemetry), Does.Not.Contain("hdr-echo-secret-77"));
    }

    [Test]
    public async Task TokenError_VeryLongSecretEchoedInDetail_NoPartOfItShown()
    {
        var secret = string.Concat(Enumerable.Range(0, 400).Select(i => (char)('a' + (i * 7 % 26)))) + "/\"é😀";
        using var h = new ProviderHarness(o => o.ClientSecret = secret);
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, JsonSerializer.Serialize(new { error = "invalid_client", error_description = "secret " + secret + " refused" }));

        var thrown = await EdgeProbeKit.FailureOf(() => h.Provider.GetTokenAsync().AsTask());

        Assert.That(EdgeProbeKit.Sinks(thrown, h.Logs), Does.Not.Contain(secret[..12]));
        Assert.That(((RapidSosAuthenticationException)thrown).Detail, Does.StartWith("secret *** refused"));
    }

    [TestCase("x")]
    [TestCase("k9")]
    [TestCase("\"/\\")]
    public async Task TokenError_SecretOfOneToThreeCharacters_MaskedInTheGatewaysText(string secret)
    {
        using var h = new ProviderHarness(o => o.ClientSecret = secret);
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, JsonSerializer.Serialize(new { detail = $"client_secret '{secret}' is not valid" }));

        var thrown = await EdgeProbeKit.FailureOf(() => h.Provider.GetTokenAsync().AsTask());

        Assert.That(((RapidSosAuthenticationException)thrown).Detail, Is.EqualTo("client_secret '***' is not valid"));
    }

    [Test]
    public async Task TokenError_SecretContainingTheMask_MaskedWhole()
    {
        using var h = new ProviderHarness(o => o.ClientSecret = "ab***cd-zz");
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"detail":"secret ab***cd-zz and ab\u002A**cd-zz refused"}""");

        var thrown = await EdgeProbeKit.FailureOf(() => h.Provider.GetTokenAsync().AsTask());

        Assert.That(((RapidSosAuthenticationException)thrown).Detail, Is.EqualTo("secret *** and *** refused"));
    }

    [Test]
    public async Task BasicHeader_EchoOfTheHeaderInHtmlTitleEntityEncodedAndJsonEscaped_NoSinkShowsIt()
    {
        using var h = new ProviderHarness(o => { o.ClientAuthentication = RapidSosClientAuthentication.BasicHeader; o.ClientSecret = "se/cr+et?=ü"; });
        using var telemetry = new TelemetryCapture();
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes("client-1:" + FormEncoding.Encode("se/cr+et?=ü")));
        var raw = Convert.ToBase64String(Encoding.UTF8.GetBytes("client-1:se/cr+et?=ü"));
        var html = $"<html><head><title>Denied: Basic {WebUtility.HtmlEncode(basic).Replace("+", "&#43;")} / {raw.Replace("/", "&#x2F;")}</title></head></html>";
        h.Endpoint.Respond = (_, _) => new HttpResponseMessage(HttpStatusCode.Unauthorized) { Content = new StringContent(html, Encoding.UTF8, "text/html") };

        var thrown = await EdgeProbeKit.FailureOf(() => h.Provider.GetTokenAsync().AsTask());

        var sinks = EdgeProbeKit.Sinks(thrown, h.Logs, telemetry);
        Assert.That(((RapidSosAuthenticationException)thrown).Detail, Is.EqualTo("an HTML error page: Denied: Basic *** / ***"));
        Assert.That(sinks, Does.Not.Contain(basic.TrimEnd('=')[..12]).And.Not.Contain(raw.TrimEnd('=')[..12]));
    }

    [Test]
    public async Task TokenError_FormEncodedBodyEchoed_DescribedNotShown()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (_, request) => new HttpResponseMessage(HttpStatusCode.BadRequest)
        {
            Content = new StringContent(request.Content!.ReadAsStringAsync().Result, Encoding.UTF8, "application/x-www-form-urlencoded"),
        };

        var thrown = await EdgeProbeKit.FailureOf(() => h.Provider.GetTokenAsync().AsTask());

        Assert.That(thrown.Message, Does.Contain("a text body the library does not show"));
        Assert.That(EdgeProbeKit.Sinks(thrown, h.Logs), Does.Not.Contain("s3cr3t"));
    }

    [Test]
    public async Task OkResponseWithAnUnusableToken_TheTokenIsInNoSink()
    {
        using var h = new ProviderHarness();
        using var telemetry = new TelemetryCapture();
        h.Endpoint.Respond = (n, _) => n switch
        {
            1 => StubTokenEndpoint.Json(HttpStatusCode.OK, """{"access_token":"unusable-tok-AAAA 1","expires_in":3600}"""),
            2 => StubTokenEndpoint.Json(HttpStatusCode.OK, """{"access_token":"unusable-tok-BBBB","expires_in":0}"""),
            _ => StubTokenEndpoint.Json(HttpStatusCode.OK, """{"access_token":"unusable-tok-CCCC","expires_in":"soon"}"""),
        };

        var failures = new List<Exception>();
        for (var i = 0; i < 3; i++)
        {
            failures.Add(await EdgeProbeKit.FailureOf(() => h.Provider.GetTokenAsync().AsTask()));
            h.Time.Advance(TimeSpan.FromSeconds(10));
        }

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3));
        Assert.That(string.Join("\n", failures.Select(f => EdgeProbeKit.Sinks(f, h.Logs, telemetry))), Does.Not.Contain("unusable-tok"));
    }

    // ---- (6) header redaction, Microsoft.Extensions.Http 10 (8 on net8.0) ----

    [Test]
    public async Task TraceLogging_EveryWayOfAttaching_AuthorizationAndProxyAuthorizationRedacted()
    {
#if NET9_0_OR_GREATER
        Assert.That(typeof(HttpClientFactoryOptions).Assembly.GetName().Version!.Major, Is.GreaterThanOrEqualTo(9));
#else
        // net8.0: the ASP.NET Core 8 framework brings Microsoft.Extensions.Http 8, which redacts no header unless told to.
        Assert.That(typeof(HttpClientFactoryOptions).Assembly.GetName().Version!.Major, Is.EqualTo(8));
#endif
        await using var gateway = await RapidSosGatewayEmulator.StartAsync();
        var logs = new FakeLogCollector();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(logs)));
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = gateway.BaseAddress;
            o.ClientId = "emulator-client";
            o.ClientSecret = "emulator-secret";
            o.ClientAuthentication = RapidSosClientAuthentication.BasicHeader;
        });
        services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).AddDefaultLogger();
        services.AddHttpClient("typed").AddRapidSosBearerToken();
        services.AddHttpClient("by-type", c => c.BaseAddress = gateway.BaseAddress).AddHttpMessageHandler<BearerTokenHandler>().RedactLoggedHeaders(_ => false);

        // The application's predicate throws when asked about a credential header: it never is.
        services.AddHttpClient("throwing", c => c.BaseAddress = gateway.BaseAddress).AddRapidSosBearerToken()
            .RedactLoggedHeaders(h => h.Contains("Authorization", StringComparison.OrdinalIgnoreCase) ? throw new InvalidOperationException("asked about " + h) : false);
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        foreach (var name in new[] { "typed", "by-type", "throwing" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "v1/ping");
            request.Headers.ProxyAuthorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", "cHJveHk6cHJveHktc2VjcmV0");
            using var response = await factory.CreateClient(name).SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), name);
        }

        var text = string.Join("\n", logs.GetSnapshot().Select(r => r.Message));
        Assert.That(text, Does.Contain("Authorization: *").And.Contain("Proxy-Authorization: *"));
        Assert.That(text, Does.Not.Contain("cHJveHk6cHJveHktc2VjcmV0"));
        Assert.That(text, Does.Not.Contain(Convert.ToBase64String(Encoding.UTF8.GetBytes("emulator-client:emulator-secret"))));
        foreach (var token in gateway.IssuedTokens)
        {
            Assert.That(text, Does.Not.Contain(token));
        }
    }

    // ---- (3) back channel ----

    [Test]
    public async Task ConfigureHttpClientDefaults_HandlerByType_BackChannelPassesThroughUntouched()
    {
        using var h = new ProviderHarness(services: s =>
        {
            s.ConfigureHttpClientDefaults(b => b.AddHttpMessageHandler<BearerTokenHandler>());
            s.AddHttpClient(RapidSosAuthDefaults.TokenClientName, c => c.Timeout = TimeSpan.FromSeconds(2));
        });

        var token = await h.Provider.GetTokenAsync().AsTask().WaitAsync(Probe.Bound);

        Assert.That(token.Value, Is.EqualTo("token-1"));
        Assert.That(h.Endpoint.Requests.Single().Authorization, Is.Null);
    }

    // ---- (4) origins ----

    [TestCase("https://api.test.example/", "https://API.Test.EXAMPLE/v1/x", true)]
    [TestCase("https://api.test.example/", "https://api.test.example:443/v1/x", true)]
    [TestCase("https://api.test.example:443/", "https://api.test.example/v1/x", true)]
    [TestCase("https://api.test.example/", "https://someone:pw@api.test.example/v1/x", true)]
    [TestCase("https://api.test.example/", "https://api.test.example./v1/x", false)]
    [TestCase("https://api.test.example/", "https://api.test.example:8443/v1/x", false)]
    [TestCase("https://api.test.example/", "http://api.test.example/v1/x", false)]
    [TestCase("https://api.test.example/", "https://ap\u0131.test.example/v1/x", false)] // dotless i: another host, equal under some case folding
    [TestCase("https://api.test.example/", "https://api.te\u017Ft.example/v1/x", false)] // long s
    [TestCase("https://api.test.example/", "https://api.test.example@evil.example/v1/x", false)]
    [TestCase("https://api.test.example/", "https://evil.example/api.test.example/v1/x", false)]
    public async Task Origin_Spelling_TokenSentOnlyToTheConfiguredHost(string baseAddress, string requestUri, bool allowed)
    {
        var provider = new Mock<ITokenProvider>();
        provider.Setup(p => p.GetTokenAsync(It.IsAny<CancellationToken>())).ReturnsAsync(new AccessToken("tok-origin", DateTimeOffset.MaxValue));
        var terminal = new RecordingTerminal();
        using var client = new HttpClient(new BearerTokenHandler(provider.Object, new RapidSosAuthOptions { BaseAddress = new Uri(baseAddress) }) { InnerHandler = terminal });

        var thrown = await EdgeProbeKit.FailureOrNull(() => client.GetAsync(requestUri));

        if (allowed)
        {
            Assert.That(thrown, Is.Null);
            Assert.That(terminal.Sends.Single().Uri.IdnHost, Is.EqualTo(new Uri(baseAddress).IdnHost));
        }
        else
        {
            Assert.That(thrown, Is.InstanceOf<InvalidOperationException>());
            Assert.That(terminal.Sends, Is.Empty);
        }
    }

    [Test]
    public async Task Redirect_ToAnotherOrigin_TheBearerTokenDoesNotFollow()
    {
        await using var target = await RapidSosGatewayEmulator.StartAsync();
        await using var f = await GatewayFixture.StartAsync();
        f.Gateway.ApiFaultRule = r => r.Path == "/v1/ping" ? EmulatorFault.Redirect(302, new Uri(target.BaseAddress, "v1/ping")) : null;

        using var response = await f.Api.GetAsync("v1/ping");

        var arrived = target.Requests.Single();
        Assert.That(arrived.Headers.ContainsKey("Authorization"), Is.False, "the redirect target got no token");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task ReloadedToAnInvalidBaseAddress_OriginsStayAndNothingShowsTheUserinfo()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RapidSos:BaseAddress"] = "https://a.test.example/",
            ["RapidSos:ClientId"] = "client-1",
            ["RapidSos:ClientSecret"] = "reload-secret",
        }).Build();
        var tokens = new StubTokenEndpoint();
        var api = new RecordingTerminal();
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(configuration.GetSection("RapidSos"));
        services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).ConfigurePrimaryHttpMessageHandler(() => tokens);
        services.AddHttpClient("api").AddRapidSosBearerToken().ConfigurePrimaryHttpMessageHandler(() => api);
        await using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();
        var client = factory.CreateClient("api");
        (await client.GetAsync("https://a.test.example/v1/one")).Dispose();

        configuration["RapidSos:BaseAddress"] = "https://b.test.example/";
        configuration.Reload();
        (await factory.CreateClient("api").GetAsync("https://b.test.example/v1/two")).Dispose();
        var refusedOld = await EdgeProbeKit.FailureOrNull(() => client.GetAsync("https://a.test.example/v1/three"));
        var refusedC = await EdgeProbeKit.FailureOrNull(() => client.GetAsync("https://c.test.example/v1/c1"));
        configuration["RapidSos:AdditionalOrigins:0"] = "https://C.test.example:443";
        configuration.Reload();
        var toC = await EdgeProbeKit.FailureOrNull(() => client.GetAsync("https://c.test.example/v1/c2"));

        // Microsoft.Extensions.Options validates the reloaded options before it calls any listener
        // (OptionsMonitor.InvokeChanged): the reload itself throws, and the library's listeners never hear of it.
        configuration["RapidSos:BaseAddress"] = "http://someone:reload-pw@evil.example/";
        var reload = Assert.Throws<AggregateException>(configuration.Reload);
        var toEvil = await EdgeProbeKit.FailureOrNull(() => client.GetAsync("http://evil.example/v1/four"));
        var toB = await EdgeProbeKit.FailureOrNull(() => client.GetAsync("https://b.test.example/v1/five"));
        var creating = await EdgeProbeKit.FailureOrNull(() => factory.CreateClient("api").GetAsync("https://b.test.example/v1/six"));

        Assert.That(refusedOld, Is.InstanceOf<InvalidOperationException>(), "the old origin is refused after the reload");
        Assert.That(refusedC, Is.InstanceOf<InvalidOperationException>());
        Assert.That(toC, Is.Null, "a reloaded AdditionalOrigins applies to the next request through the same handler");
        Assert.That(toEvil, Is.InstanceOf<InvalidOperationException>(), "an invalid reload opens no origin");
        Assert.That(api.Sends.Select(s => s.Uri.AbsolutePath), Has.None.EqualTo("/v1/four"));
        Assert.That(api.Sends.Where(s => s.Uri.Host == "evil.example"), Is.Empty);
        Assert.That(reload!.InnerExceptions.Single(), Is.InstanceOf<Microsoft.Extensions.Options.OptionsValidationException>());
        Assert.That(toB, Is.Null, "the handler keeps the last valid origins and token");
        Assert.That(creating, Is.InstanceOf<Microsoft.Extensions.Options.OptionsValidationException>(), "a new client reads the invalid options");
        var messages = string.Join("\n", new Exception?[] { reload, refusedOld, toEvil, toB, creating }.Select(e => e?.ToString()));
        Assert.That(messages, Does.Not.Contain("reload-pw").And.Not.Contain("reload-secret"));
    }

    // ---- (5) userinfo ----

    [TestCase("https://client:uipw-77@@api.rapidsos.com/oauth/token")]
    [TestCase("https://us%40er:uipw-77@api.rapidsos.com/oauth/token")]
    [TestCase("https://u:uipw-77@[fe80::1%25eth0]/oauth/token")]
    [TestCase("htps://client:uipw-77@api.rapidsos.com/oauth/token")]
    [TestCase("https://client:uipw-77@api.rapidsos.com:99999/oauth/token")]
    [TestCase("https://client:uipw-77@api.rapidsos.com/oauth/token?x=1")]
    [TestCase("ftp://client:uipw-77@api.rapidsos.com/")]
    [TestCase("mailto:client:uipw-77@api.rapidsos.com")]
    [TestCase("https://client:uipw-77@api.rapidsos.com")]
    public void Binder_UrlWithUserinfo_NoMessageRepeatsIt(string url)
    {
        foreach (var key in new[] { "BaseAddress", "TokenEndpoint", "AdditionalOrigins:0" })
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = url, ["ClientId"] = "c", ["ClientSecret"] = "s" }).Build();
            var options = new RapidSosAuthOptions();
            RapidSosAuthOptionsBinder.Bind(configuration, options);

            var failures = RapidSosAuthOptionsValidator.Collect("edge", options);

            Assert.That(failures, Is.Not.Empty, key);
            Assert.That(string.Join("\n", failures) + options, Does.Not.Contain("uipw-77"), key);
        }
    }

    // ---- (2) bodies resent byte for byte ----

    private static readonly byte[] s_payload = Encoding.UTF8.GetBytes("{\"alert\":\"fall detected\",\"caller\":\"Zoë 😀\"}");

    private static IEnumerable<TestCaseData> ResendCases()
    {
        var alert = new ProbeAlert("fall", 40.7, -74.0);
        var cases = new (string Name, Func<HttpContent> Create, byte[]? Expected, bool Sync)[]
        {
            ("JsonWithOptions", () => JsonContent.Create(alert, options: new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseUpper }), null, true),
            ("JsonTypeInfo", () => JsonContent.Create(alert, ProbeJsonContext.Default.ProbeAlert), null, true),
            ("JsonHandWrittenLazyEnumerable", () => JsonContent.Create(new DrainingEnumerable(1, 2, 3)), "[1,2,3]"u8.ToArray(), true),
            ("JsonHandWrittenLazyReadOnlyCollection", () => JsonContent.Create(new DrainingReadOnlyCollection(1, 2, 3)), "[1,2,3]"u8.ToArray(), true),
            ("PushContent", () => new PushContent(s_payload), s_payload, true),
            ("GzipOfString", () => new GzipContent(new StringContent("compress me, compress me", Encoding.UTF8)), null, true),
            ("GzipOfReadOnceStream", () => new GzipContent(new StreamContent(new ReadOnceStream(s_payload))), null, true),
            ("EmptyReadOnceStream", () => new StreamContent(new ReadOnceStream([])), [], true),
            ("EmptyBytes", () => new ByteArrayContent([]), [], true),
            ("EmptyJsonString", () => JsonContent.Create(string.Empty), "\"\""u8.ToArray(), true),
            ("HugeReadOnceStream", () => new StreamContent(new ReadOnceStream(Huge)), Huge, true),
        };
        foreach (var c in cases)
        {
            yield return new TestCaseData(c.Name, c.Create, c.Expected, false).SetArgDisplayNames(c.Name, "SendAsync");
            if (c.Sync)
            {
                yield return new TestCaseData(c.Name, c.Create, c.Expected, true).SetArgDisplayNames(c.Name, "Send");
            }
        }
    }

    private static readonly byte[] Huge = HugeBody(3 * 1024 * 1024);

    private static byte[] HugeBody(int length)
    {
        var body = new byte[length];
        new Random(10).NextBytes(body);
        return body;
    }

    [TestCaseSource(nameof(ResendCases))]
    public async Task Resend_ContentOutsideTheMatrix_SameBytesAndContentHeaders(string name, Func<HttpContent> create, byte[]? expected, bool synchronous)
    {
        await using var f = await EdgeProbeKit.FixtureAsync();
        expected ??= await create().ReadAsByteArrayAsync();

        var (sends, status) = await EdgeProbeKit.PostThroughA401Async(f, create(), synchronous);

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(sends.Select(s => s.StatusCode), Is.EqualTo(new[] { 401, 200 }));
        // SequenceEqual, not Is.EqualTo: NUnit compares a multi-megabyte array element by element, slowly.
        Assert.That(sends[0].Body.Span.SequenceEqual(expected), Is.True, $"the first send: {sends[0].Body.Length} bytes, expected {expected.Length}");
        Assert.That(sends[1].Body.Span.SequenceEqual(expected), Is.True, $"the resend: {sends[1].Body.Length} bytes, expected {expected.Length}");
        Assert.That(EdgeProbeKit.ContentHeaders(sends[1]), Is.EqualTo(EdgeProbeKit.ContentHeaders(sends[0])));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Resend_InnerHandlerSignsTheBodyIntoContentHeaders_ResendSignedIdentically(bool synchronous)
    {
        await using var gateway = await RapidSosGatewayEmulator.StartAsync();
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(o => { o.BaseAddress = gateway.BaseAddress; o.ClientId = "emulator-client"; o.ClientSecret = "emulator-secret"; });
        services.AddHttpClient("api", c => c.BaseAddress = gateway.BaseAddress).AddRapidSosBearerToken().AddHttpMessageHandler(() => new BodySigningHandler());
        await using var provider = services.BuildServiceProvider();
        var api = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");
        (await api.GetAsync("v1/ping")).Dispose();
        gateway.RevokeAllTokens();
        gateway.ResetRecords();

        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/echo") { Content = new StreamContent(new ReadOnceStream(s_payload)) };
        using var response = synchronous ? api.Send(request) : await api.SendAsync(request);

        var sends = gateway.Requests.Where(r => r.IsApiRequest).ToArray();
        Assert.That(sends.Select(s => s.StatusCode), Is.EqualTo(new[] { 401, 200 }));
        Assert.That(sends.Select(s => s.Body.ToArray()), Is.EqualTo(new[] { s_payload, s_payload }));
        Assert.That(EdgeProbeKit.ContentHeaders(sends[1]), Is.EqualTo(EdgeProbeKit.ContentHeaders(sends[0])));
        Assert.That(sends[1].Headers["Content-MD5"], Is.EqualTo(Convert.ToBase64String(System.Security.Cryptography.MD5.HashData(s_payload))));
    }

    // ---- (7) the emulator's two forms ----

    private static IEnumerable<TestCaseData> EmulatorScenarios() =>
        new[] { "ResendReadOnceStreamThroughHandler", "RawResendOfConsumedStream", "WrongSecret", "LowercaseBearer", "ContentLengthLies", "GetWithBody", "MultiValuedHeader", "EncodedPath" }
            .Select(s => new TestCaseData(s).SetArgDisplayNames(s));

    [TestCaseSource(nameof(EmulatorScenarios))]
    public async Task Emulator_Scenario_InMemoryAndKestrelAgree(string scenario)
    {
        var inMemory = await EdgeProbeKit.RunEmulatorScenarioAsync(scenario, kestrel: false);
        var kestrel = await EdgeProbeKit.RunEmulatorScenarioAsync(scenario, kestrel: true);

        Assert.That(inMemory, Is.EqualTo(kestrel));
    }
}
