using System.Net;
using System.Net.Http.Json;
using System.Text;
using Moq;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests;

public class BearerTokenHandlerTests
{
    private static readonly DateTimeOffset s_expiry = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly AccessToken _first = new("first-token", s_expiry);
    private readonly AccessToken _second = new("second-token", s_expiry);

    private Mock<ITokenProvider> _provider = null!;
    private RecordingApiHandler _api = null!;

    [SetUp]
    public void SetUp()
    {
        _provider = new Mock<ITokenProvider>(MockBehavior.Strict);
        _provider.Setup(p => p.GetTokenAsync(It.IsAny<CancellationToken>())).Returns(new ValueTask<AccessToken>(_first));
        _provider.Setup(p => p.RefreshTokenAsync(_first, It.IsAny<CancellationToken>())).Returns(new ValueTask<AccessToken>(_second));
        _api = new RecordingApiHandler();
    }

    private HttpClient CreateClient(Action<RapidSosAuthOptions>? configure = null)
    {
        var options = new RapidSosAuthOptions { BaseAddress = new Uri("https://api.test.example/") };
        configure?.Invoke(options);
        var handler = new BearerTokenHandler(_provider.Object, options) { InnerHandler = _api };
        return new HttpClient(handler) { BaseAddress = options.BaseAddress };
    }

    [Test]
    public async Task SendAsync_CachedToken_SetsExactlyBearerHeader()
    {
        using var client = CreateClient();

        using var response = await client.GetAsync("v1/ping");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(_api.Sends.Single().Authorization, Is.EqualTo("Bearer first-token"));
    }

    [Test]
    public async Task SendAsync_Unauthorized_DisposesResponseRefreshesRejectedTokenAndResendsOnce()
    {
        _api.RejectedTokens.Add("first-token");
        using var client = CreateClient();

        using var response = await client.GetAsync("v1/ping");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(_api.Sends.Select(s => s.Authorization), Is.EqualTo(new[] { "Bearer first-token", "Bearer second-token" }));
        _provider.Verify(p => p.RefreshTokenAsync(_first, It.IsAny<CancellationToken>()), Times.Once);
        Assert.That(() => _api.Responses[0].Content.ReadAsStream(), Throws.InstanceOf<ObjectDisposedException>(), "the 401 response must be disposed");
    }

    [Test]
    public async Task SendAsync_SecondUnauthorized_ReturnsResponseWithoutLooping()
    {
        _api.RejectedTokens.Add("first-token");
        _api.RejectedTokens.Add("second-token");
        using var client = CreateClient();

        using var response = await client.GetAsync("v1/ping");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(_api.Sends, Has.Count.EqualTo(2));
        _provider.Verify(p => p.RefreshTokenAsync(It.IsAny<AccessToken>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Test]
    public async Task SendAsync_RetryDisabled_ReturnsFirstUnauthorized()
    {
        _api.RejectedTokens.Add("first-token");
        using var client = CreateClient(o => o.RetryOnUnauthorized = false);

        using var response = await client.GetAsync("v1/ping");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(_api.Sends, Has.Count.EqualTo(1));
        _provider.Verify(p => p.RefreshTokenAsync(It.IsAny<AccessToken>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    private static IEnumerable<TestCaseData> Bodies()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"alert\":\"caller reports fire\",\"n\":42}");
        yield return new TestCaseData(new Func<HttpContent>(() => new StringContent("{\"alert\":\"caller reports fire\",\"n\":42}", Encoding.UTF8, "application/json"))).SetName("SendAsync_UnauthorizedWithStringContent_ResendsBodyIntact");
        yield return new TestCaseData(new Func<HttpContent>(() => new StreamContent(new ReadOnceStream(bytes)))).SetName("SendAsync_UnauthorizedWithReadOnceStream_ResendsBodyIntact");
        yield return new TestCaseData(new Func<HttpContent>(() => new StreamContent(new MemoryStream(bytes)))).SetName("SendAsync_UnauthorizedWithSeekableStream_ResendsBodyIntact");
        yield return new TestCaseData(new Func<HttpContent>(() => new MultipartFormDataContent("boundary") { { new StreamContent(new ReadOnceStream(bytes)), "file", "a.json" } })).SetName("SendAsync_UnauthorizedWithMultipartStream_ResendsBodyIntact");
        yield return new TestCaseData(new Func<HttpContent>(() => JsonContent.Create(new { alert = "caller reports fire", n = 42 }))).SetName("SendAsync_UnauthorizedWithJsonContent_ResendsBodyIntact");
        yield return new TestCaseData(new Func<HttpContent>(() => new FormUrlEncodedContent([new("a", "b c&d")]))).SetName("SendAsync_UnauthorizedWithFormContent_ResendsBodyIntact");
        yield return new TestCaseData(new Func<HttpContent>(() => new ReadOnlyMemoryContent(bytes))).SetName("SendAsync_UnauthorizedWithReadOnlyMemoryContent_ResendsBodyIntact");
    }

    [TestCaseSource(nameof(Bodies))]
    public async Task SendAsync_UnauthorizedWithBody_ResendsBodyIntact(Func<HttpContent> content)
    {
        _api.RejectedTokens.Add("first-token");
        using var client = CreateClient();

        using var response = await client.PostAsync("v1/echo", content());

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var sends = _api.Sends.ToArray();
        Assert.That(sends, Has.Length.EqualTo(2));
        Assert.That(sends[0].Body, Is.Not.Empty);
        Assert.That(sends[1].Body, Is.EqualTo(sends[0].Body));
    }

    [Test]
    public void SendAsync_TokenFetchFails_DoesNotSendRequest()
    {
        var failure = new RapidSosAuthenticationException("token endpoint down");
        _provider.Setup(p => p.GetTokenAsync(It.IsAny<CancellationToken>())).Returns(new ValueTask<AccessToken>(Task.FromException<AccessToken>(failure)));
        using var client = CreateClient();

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(() => client.GetAsync("v1/ping"));

        Assert.That(ex, Is.SameAs(failure));
        Assert.That(_api.Sends, Is.Empty);
    }

    [Test]
    public void SendAsync_RefreshFailsAfterUnauthorized_ThrowsAndDoesNotResend()
    {
        _api.RejectedTokens.Add("first-token");
        _provider.Setup(p => p.RefreshTokenAsync(_first, It.IsAny<CancellationToken>()))
            .Returns(new ValueTask<AccessToken>(Task.FromException<AccessToken>(new RapidSosAuthenticationException("refresh failed"))));
        using var client = CreateClient();

        Assert.ThrowsAsync<RapidSosAuthenticationException>(() => client.GetAsync("v1/ping"));
        Assert.That(_api.Sends, Has.Count.EqualTo(1));
    }

    [TestCase("https://evil.example/v1/ping")]
    [TestCase("http://api.test.example/v1/ping")]
    [TestCase("https://api.test.example:8443/v1/ping")]
    [TestCase("https://api.test.example.evil.example/v1/ping")]
    public void SendAsync_OtherOrigin_FailsFastWithoutTokenOrSend(string uri)
    {
        using var client = CreateClient();

        var ex = Assert.ThrowsAsync<InvalidOperationException>(() => client.GetAsync(uri));

        Assert.That(ex!.Message, Does.Contain("https://api.test.example:443"));
        Assert.That(ex.Message, Does.Contain("AdditionalOrigins"));
        Assert.That(_api.Sends, Is.Empty);
        _provider.Verify(p => p.GetTokenAsync(It.IsAny<CancellationToken>()), Times.Never);
    }

    [Test]
    public async Task SendAsync_AdditionalOrigin_GetsTheToken()
    {
        using var client = CreateClient(o => o.AdditionalOrigins.Add(new Uri("https://edx-sandbox.test.example/any/path")));

        using var response = await client.GetAsync("https://EDX-sandbox.test.example/alerts");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(_api.Sends.Single().Authorization, Is.EqualTo("Bearer first-token"));
    }

    [Test]
    public void SendAsync_CallerCancelled_ThrowsOperationCanceled()
    {
        var pending = new TaskCompletionSource<AccessToken>();
        _provider.Setup(p => p.GetTokenAsync(It.IsAny<CancellationToken>()))
            .Returns((CancellationToken ct) => new ValueTask<AccessToken>(pending.Task.WaitAsync(ct)));
        using var client = CreateClient();
        using var cancel = new CancellationTokenSource();

        var send = client.GetAsync("v1/ping", cancel.Token);
        cancel.Cancel();

        Assert.That(async () => await send, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(_api.Sends, Is.Empty);
    }

    [Test]
    public void Send_Synchronous_SetsHeaderAndRetriesUnauthorized()
    {
        _api.RejectedTokens.Add("first-token");
        using var client = CreateClient();

        using var response = client.Send(new HttpRequestMessage(HttpMethod.Post, "v1/echo") { Content = new StreamContent(new ReadOnceStream([1, 2, 3])) });

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var sends = _api.Sends.ToArray();
        Assert.That(sends.Select(s => s.Authorization), Is.EqualTo(new[] { "Bearer first-token", "Bearer second-token" }));
        Assert.That(sends[1].Body, Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test]
    public void Send_SecondUnauthorized_DisposesFirstAndReturnsSecondWithoutLooping()
    {
        _api.RejectedTokens.Add("first-token");
        _api.RejectedTokens.Add("second-token");
        using var client = CreateClient();

        using var response = client.Send(new HttpRequestMessage(HttpMethod.Get, "v1/ping"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(_api.Sends.Select(s => s.Authorization), Is.EqualTo(new[] { "Bearer first-token", "Bearer second-token" }));
        _provider.Verify(p => p.RefreshTokenAsync(It.IsAny<AccessToken>(), It.IsAny<CancellationToken>()), Times.Once);
        Assert.That(() => _api.Responses[0].Content.ReadAsStream(), Throws.InstanceOf<ObjectDisposedException>(), "the first 401 response must be disposed");
    }

    [Test]
    public void Send_TokenFetchFails_DoesNotSendRequest()
    {
        var failure = new RapidSosAuthenticationException("token endpoint down");
        _provider.Setup(p => p.GetTokenAsync(It.IsAny<CancellationToken>())).Returns(new ValueTask<AccessToken>(Task.FromException<AccessToken>(failure)));
        using var client = CreateClient();

        var ex = Assert.Throws<RapidSosAuthenticationException>(() => client.Send(new HttpRequestMessage(HttpMethod.Get, "v1/ping")));

        Assert.That(ex, Is.SameAs(failure));
        Assert.That(_api.Sends, Is.Empty);
    }

    [TestCase("http://api.rapidsos.com/")]
    [TestCase("http://10.1.2.3:8080/")]
    public void Constructor_PlainHttpBaseAddressOffLoopback_IsRefused(string address)
    {
        var ex = Assert.Throws<ArgumentException>(() => _ = new BearerTokenHandler(_provider.Object, new RapidSosAuthOptions { BaseAddress = new Uri(address) }));

        Assert.That(ex!.Message, Does.Contain("must use https"));
    }

    [Test]
    public void Constructor_PlainHttpAdditionalOriginOffLoopback_IsRefused()
    {
        var options = new RapidSosAuthOptions();
        options.AdditionalOrigins.Add(new Uri("http://edx.rapidsos.com/"));

        Assert.Throws<ArgumentException>(() => _ = new BearerTokenHandler(_provider.Object, options));
    }

    [Test]
    public void Constructor_NullArguments_Throw()
    {
        Assert.Throws<ArgumentNullException>(() => _ = new BearerTokenHandler(null!, new RapidSosAuthOptions()));
        Assert.Throws<ArgumentNullException>(() => _ = new BearerTokenHandler(_provider.Object, null!));
    }

    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    public async Task SendAsync_UnauthorizedAfterCrossOriginRedirect_ReturnsItWithoutSendingANewToken(bool synchronous, bool coldCache)
    {
        // What SocketsHttpHandler's auto-redirect does: it rewrites RequestUri and, leaving the origin, drops the
        // Authorization header. A 401 from there must not earn that host a fresh token.
        if (coldCache)
        {
            _provider.Setup(p => p.GetTokenAsync(It.IsAny<CancellationToken>())).Returns(() => new ValueTask<AccessToken>(Task.Run(() => _first)));
        }

        var redirect = new CrossOriginRedirectStub(new Uri("https://elsewhere.example/landing"));
        var handler = new BearerTokenHandler(_provider.Object, new RapidSosAuthOptions { BaseAddress = new Uri("https://api.test.example/") }) { InnerHandler = redirect };
        using var client = new HttpClient(handler) { BaseAddress = new Uri("https://api.test.example/") };

        using var response = synchronous
            ? client.Send(new HttpRequestMessage(HttpMethod.Get, "v1/ping"))
            : await client.GetAsync("v1/ping");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(redirect.AuthorizationsSeenElsewhere, Is.EqualTo(new string?[] { null }), "the other origin must never see a token");
        _provider.Verify(p => p.RefreshTokenAsync(It.IsAny<AccessToken>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    private sealed class CrossOriginRedirectStub(Uri target) : HttpMessageHandler
    {
        public List<string?> AuthorizationsSeenElsewhere { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Yield();
            return Send(request, cancellationToken);
        }

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.Host != target.Host)
            {
                // Follow the redirect as SocketsHttpHandler does: leaving the origin drops the header.
                request.Headers.Authorization = null;
                request.RequestUri = target;
            }

            AuthorizationsSeenElsewhere.Add(request.Headers.Authorization?.ToString());
            return new HttpResponseMessage(HttpStatusCode.Unauthorized) { RequestMessage = request };
        }
    }

    [Test]
    public async Task SendAsync_ProviderReturnsTheRejectedTokenItself_401GoesBackAsItIsWithoutResend()
    {
        _provider.Setup(p => p.RefreshTokenAsync(_first, It.IsAny<CancellationToken>())).Returns(new ValueTask<AccessToken>(_first));
        _api.RejectedTokens.Add(_first.Value);
        using var client = CreateClient();

        using var response = await client.GetAsync("v1/ping");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(_api.Sends, Has.Count.EqualTo(1), "resending the same token cannot help");
    }

    [Test]
    public async Task SendAsync_RouteRejectsEveryToken_ReplacementsAreSpacedAndHealthyRoutesNeverWait()
    {
        using var h = new ProviderHarness();
        var api = new RouteApi();
        using var invoker = new HttpMessageInvoker(new BearerTokenHandler(h.Provider, h.Options.Get(string.Empty)) { InnerHandler = api });
        await h.Provider.GetTokenAsync();
        var healthyWaited = 0;
        var badAnswers = new List<HttpStatusCode>();

        // 20 calls to the bad route in 3 s, each followed by calls to a healthy route.
        for (var call = 0; call < 20; call++)
        {
            using (var bad = await invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "https://api.test.example/v1/always-401"), CancellationToken.None))
            {
                badAnswers.Add(bad.StatusCode);
            }

            for (var i = 0; i < 5; i++)
            {
                var healthy = invoker.SendAsync(new HttpRequestMessage(HttpMethod.Get, "https://api.test.example/v1/ping"), CancellationToken.None);
                healthyWaited += healthy.IsCompleted ? 0 : 1;
                using var ok = await healthy;
                Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }

            h.Time.Advance(TimeSpan.FromMilliseconds(150));
        }

        Assert.That(h.Endpoint.RequestCount - 1, Is.LessThanOrEqualTo(4), "token requests caused by the route that rejects every token");
        Assert.That(badAnswers, Has.All.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(healthyWaited, Is.Zero, "no call to a healthy route waits for a token request");
        Assert.That(h.Logs.GetSnapshot().Any(r => r.Id.Id == 10), Is.True, "the held-back replacements are logged (event 10)");
    }

    [Test]
    public async Task SendAsync_ResendWithReplacementSucceedsAgain_ReplacementsAreNoLongerHeldBack()
    {
        using var h = new ProviderHarness();
        var api = new RecordingApiHandler();
        using var client = new HttpClient(new BearerTokenHandler(h.Provider, h.Options.Get(string.Empty)) { InnerHandler = api }) { BaseAddress = new Uri("https://api.test.example/") };
        api.RejectedTokens.UnionWith(["token-1", "token-2"]);
        using (await client.GetAsync("v1/ping"))
        {
            // token-1 rejected, token-2 rejected on the resend: replacements are held back for 1 s.
        }

        h.Time.Advance(TimeSpan.FromSeconds(1));
        using (var accepted = await client.GetAsync("v1/ping"))
        {
            Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.OK), "after the hold, token-3 is fetched and accepted");
        }

        // A revocation right after: replaced at once, no hold left over.
        api.RejectedTokens.Add("token-3");
        using var again = await client.GetAsync("v1/ping");

        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(4));
    }

    /// <summary>An API where one route rejects every token and the others accept any; answers synchronously.</summary>
    private sealed class RouteApi : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(request.RequestUri!.AbsolutePath.EndsWith("always-401", StringComparison.Ordinal) ? HttpStatusCode.Unauthorized : HttpStatusCode.OK));
    }
}
