using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Internal;

public class CachingTokenProviderTests
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
        var expected = Convert.ToBase64String(Encoding.UTF8.GetBytes("client-1:" + ProviderHarness.Secret));
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

    [Test]
    public async Task GetTokenAsync_Cached_MakesNoSecondRequestAndCompletesSynchronously()
    {
        using var h = new ProviderHarness();
        var first = await h.Provider.GetTokenAsync();

        var second = h.Provider.GetTokenAsync();

        Assert.That(second.IsCompletedSuccessfully, Is.True);
        Assert.That(second.Result, Is.SameAs(first));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public async Task GetTokenAsync_ExpiryComesFromLocalSendTimePlusExpiresIn_NotIssuedAt()
    {
        using var h = new ProviderHarness();
        var sentAt = h.Time.GetUtcNow();
        // issued_at in the response is from 2017 (and in milliseconds): it must not matter.
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Token("t", expiresIn: "3599");

        var token = await h.Provider.GetTokenAsync();

        Assert.That(token.ExpiresAt, Is.EqualTo(sentAt.AddSeconds(3599)));
    }

    [Test]
    public async Task GetTokenAsync_ColdCacheWithManyConcurrentCallers_SendsExactlyOneRequest()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Hold();

        var callers = Enumerable.Range(0, 500).Select(_ => Task.Run(() => h.Provider.GetTokenAsync().AsTask())).ToArray();
        await h.Endpoint.WaitForRequestsAsync(1);
        h.Endpoint.Release();
        var tokens = await Task.WhenAll(callers);

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
        Assert.That(tokens.Select(t => t.Value).Distinct(), Is.EqualTo(new[] { "token-1" }));
    }

    [Test]
    public async Task GetTokenAsync_OneCallerCancels_OthersStillGetTheSharedToken()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Hold();
        using var cancel = new CancellationTokenSource();

        var cancelled = h.Provider.GetTokenAsync(cancel.Token).AsTask();
        var other = h.Provider.GetTokenAsync().AsTask();
        await h.Endpoint.WaitForRequestsAsync(1);
        cancel.Cancel();

        Assert.That(async () => await cancelled, Throws.InstanceOf<OperationCanceledException>());
        h.Endpoint.Release();
        Assert.That((await other).Value, Is.EqualTo("token-1"));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public async Task GetTokenAsync_InsideRefreshWindow_ServesCurrentTokenWhileOneBackgroundRefreshRuns()
    {
        using var h = new ProviderHarness(o => o.RefreshBeforeExpiry = TimeSpan.FromMinutes(5));
        var first = await h.Provider.GetTokenAsync();
        h.Endpoint.Hold();

        h.Time.Advance(TimeSpan.FromSeconds(3599) - TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var during = Enumerable.Range(0, 200).Select(_ => h.Provider.GetTokenAsync()).ToArray();

        Assert.That(during.All(t => t.IsCompletedSuccessfully && ReferenceEquals(t.Result, first)), Is.True,
            "callers must not wait for the background refresh");
        await h.Endpoint.WaitForRequestsAsync(2);
        h.Endpoint.Release();
        await Poll.UntilAsync(() => h.Provider.GetTokenAsync().Result.Value == "token-2", "the refreshed token-2 to be served");
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));
    }

    [Test]
    public async Task GetTokenAsync_RefreshAheadDisabled_RefetchesOnlyAtExpiry()
    {
        using var h = new ProviderHarness(o => o.RefreshBeforeExpiry = TimeSpan.Zero);
        await h.Provider.GetTokenAsync();

        h.Time.Advance(TimeSpan.FromSeconds(3598));
        await h.Provider.GetTokenAsync();
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));

        h.Time.Advance(TimeSpan.FromSeconds(1));
        var token = await h.Provider.GetTokenAsync();
        Assert.That(token.Value, Is.EqualTo("token-2"));
    }

    [Test]
    public async Task GetTokenAsync_TokenShorterThanWindow_RefreshesAtFourFifthsOfLifetime()
    {
        using var h = new ProviderHarness(o => o.RefreshBeforeExpiry = TimeSpan.FromMinutes(5));
        h.Endpoint.Respond = (n, _) => StubTokenEndpoint.Token($"token-{n}", expiresIn: "10");
        await h.Provider.GetTokenAsync();

        h.Time.Advance(TimeSpan.FromSeconds(7.9));
        await h.Provider.GetTokenAsync();
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1), "no refresh before 80% of the lifetime");

        h.Time.Advance(TimeSpan.FromSeconds(0.2));
        var stillCurrent = await h.Provider.GetTokenAsync();
        Assert.That(stillCurrent.Value, Is.EqualTo("token-1"));
        await Poll.UntilAsync(() => h.Provider.GetTokenAsync().Result.Value == "token-2", "the refreshed token-2 to be served");
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));
    }

    [Test]
    public async Task GetTokenAsync_BackgroundRefreshFails_KeepsCurrentTokenLogsAndRetriesLater()
    {
        using var h = new ProviderHarness();
        var first = await h.Provider.GetTokenAsync();
        h.Endpoint.Respond = (n, _) => n == 2
            ? StubTokenEndpoint.Json(HttpStatusCode.InternalServerError, """{"detail":"Internal server error"}""")
            : StubTokenEndpoint.Token($"token-{n}");

        h.Time.Advance(TimeSpan.FromSeconds(3599 - 299));
        Assert.That((await h.Provider.GetTokenAsync()).Value, Is.SameAs(first.Value));
        await h.Endpoint.WaitForRequestsAsync(2);
        await Poll.UntilAsync(() => h.Logs.GetSnapshot().Any(r => r.Id.Id == 4), "the background-refresh-failed warning (event 4)");

        // Still the old, valid token; no new attempt until the retry delay has passed.
        for (var i = 0; i < 50; i++)
        {
            Assert.That(h.Provider.GetTokenAsync().Result, Is.SameAs(first));
        }

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));
        var warning = h.Logs.GetSnapshot().Single(r => r.Id.Id == 4);
        Assert.That(warning.Level, Is.EqualTo(Microsoft.Extensions.Logging.LogLevel.Warning));
        Assert.That(warning.Exception, Is.InstanceOf<RapidSosAuthenticationException>());

        h.Time.Advance(TimeSpan.FromSeconds(2));
        _ = h.Provider.GetTokenAsync();
        await Poll.UntilAsync(() => h.Provider.GetTokenAsync().Result.Value == "token-3", "the retried refresh to serve token-3");
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3));
    }

    [Test]
    public async Task GetTokenAsync_ExpiredAndEndpointFailing_CallersWaitAndGetTheError()
    {
        using var h = new ProviderHarness(o => o.RefreshBeforeExpiry = TimeSpan.Zero);
        await h.Provider.GetTokenAsync();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.BadRequest, """{"detail":"Invalid user credentials."}""");

        h.Time.Advance(TimeSpan.FromSeconds(3600));

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(ex.Detail, Is.EqualTo("Invalid user credentials."));
    }

    [Test]
    public async Task RefreshTokenAsync_ManyCallersRejectSameToken_FetchesExactlyOneNewToken()
    {
        using var h = new ProviderHarness();
        var rejected = await h.Provider.GetTokenAsync();
        h.Endpoint.Hold();

        var refreshes = Enumerable.Range(0, 100).Select(_ => Task.Run(() => h.Provider.RefreshTokenAsync(rejected).AsTask())).ToArray();
        await h.Endpoint.WaitForRequestsAsync(2);
        h.Endpoint.Release();
        var tokens = await Task.WhenAll(refreshes);

        // Late callers arriving after the refresh completed must get the replacement, not a third token.
        var late = await h.Provider.RefreshTokenAsync(rejected);
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));
        Assert.That(tokens.Append(late).Select(t => t.Value).Distinct(), Is.EqualTo(new[] { "token-2" }));
        Assert.That((await h.Provider.GetTokenAsync()).Value, Is.EqualTo("token-2"));
    }

    [Test]
    public async Task RefreshTokenAsync_TokenNoLongerCached_ReturnsCurrentWithoutRequest()
    {
        using var h = new ProviderHarness();
        var stale = new AccessToken("some-old-token", h.Time.GetUtcNow().AddMinutes(1));
        var current = await h.Provider.GetTokenAsync();

        var result = await h.Provider.RefreshTokenAsync(stale);

        Assert.That(result, Is.SameAs(current));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public void RefreshTokenAsync_NullRejected_Throws()
    {
        using var h = new ProviderHarness();
        Assert.ThrowsAsync<ArgumentNullException>(async () => await h.Provider.RefreshTokenAsync(null!));
    }

    [Test]
    public async Task GetTokenAsync_SecretRotatedInOptionsMonitor_NextRequestUsesNewSecretAndOldTokenIsNotServed()
    {
        var secret = "first-secret";
        var rotation = new ManualChangeTokenSource();
        using var h = new ProviderHarness(o => o.ClientSecret = secret, s => s.AddSingleton<Microsoft.Extensions.Options.IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation));
        var old = await h.Provider.GetTokenAsync();

        secret = "second-secret";
        rotation.Change();
        var fresh = await h.Provider.GetTokenAsync();

        Assert.That(fresh.Value, Is.Not.EqualTo(old.Value));
        Assert.That(h.Endpoint.Requests.Last().Form["client_secret"], Is.EqualTo("second-secret"));
    }

    [Test]
    public async Task GetTokenAsync_CacheWithSizeLimit_StoresTokens()
    {
        using var h = new ProviderHarness(services: s => s.AddMemoryCache(o => o.SizeLimit = 10));

        await h.Provider.GetTokenAsync();
        await h.Provider.GetTokenAsync();

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
        Assert.That(h.Cache.TryGetValue(h.Caching.Lifecycle!.Key, out _), Is.True);
    }

    [Test]
    public async Task GetTokenAsync_CacheKey_NeverContainsTheSecret()
    {
        using var h = new ProviderHarness();
        await h.Provider.GetTokenAsync();

        var key = h.Caching.Lifecycle!.Key;

        Assert.That(key.ToString(), Does.Not.Contain(ProviderHarness.Secret));
        Assert.That(key.CredentialHash, Does.Not.Contain(ProviderHarness.Secret));
        Assert.That(key.CredentialHash, Has.Length.EqualTo(64));
        Assert.That(key.Endpoint + key.ClientId + key.Scope + key.Username, Does.Not.Contain(ProviderHarness.Secret));
    }

    [Test]
    public async Task GetTokenAsync_TwoRegistrationsWithSameCredentials_ShareTheCachedToken()
    {
        using var h = new ProviderHarness(services: s => s.AddRapidSosAuthentication("second", o =>
        {
            o.BaseAddress = new Uri("https://api.test.example/");
            o.ClientId = "client-1";
            o.ClientSecret = ProviderHarness.Secret;
        }));

        var first = await h.Provider.GetTokenAsync();
        var second = await h.Services.GetRequiredKeyedService<ITokenProvider>("second").GetTokenAsync();

        Assert.That(second, Is.SameAs(first));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
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
    public void GetTokenAsync_CallerCancelled_ThrowsOperationCanceled()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Hold();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));

        Assert.That(async () => await h.Provider.GetTokenAsync(cancel.Token), Throws.InstanceOf<OperationCanceledException>());
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
    public void GetTokenAsync_InvalidOptions_ThrowsValidationErrorNamingEveryProblem()
    {
        using var h = new ProviderHarness(o =>
        {
            o.ClientId = null;
            o.ClientSecret = "";
        });

        var ex = Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.Failures, Has.Some.Contains("ClientId is required"));
        Assert.That(ex.Failures, Has.Some.Contains("ClientSecret is required"));
        Assert.That(h.Endpoint.RequestCount, Is.Zero);
    }

    [Test]
    public async Task GetTokenAsync_SlowTokenResponse_ExpiryCountsFromSendTimeNotArrival()
    {
        using var h = new ProviderHarness();
        var sentAt = h.Time.GetUtcNow();
        h.Endpoint.Respond = (n, _) =>
        {
            h.Time.Advance(TimeSpan.FromSeconds(20)); // the gateway takes 20 s to answer
            return StubTokenEndpoint.Token($"token-{n}", expiresIn: "3599");
        };

        var token = await h.Provider.GetTokenAsync();

        Assert.That(token.ExpiresAt, Is.EqualTo(sentAt.AddSeconds(3599)));
    }

    [Test]
    public async Task GetTokenAsync_TokenShorterThanWindow_StaysFreshUntilFourFifthsOfLifetime()
    {
        using var h = new ProviderHarness(o => o.RefreshBeforeExpiry = TimeSpan.FromMinutes(5));
        h.Endpoint.Respond = (n, _) => StubTokenEndpoint.Token($"token-{n}", expiresIn: "10");
        var token = await h.Provider.GetTokenAsync();

        Assert.That(h.Caching.Lifecycle!.State.RefreshAt, Is.EqualTo(token.ExpiresAt - TimeSpan.FromSeconds(2)));
        h.Time.Advance(TimeSpan.FromSeconds(7.9));
        _ = h.Provider.GetTokenAsync();

        // The in-flight flag is set synchronously when a refresh starts, unlike the stub's request count.
        Assert.That(h.Caching.HasInflightRequest, Is.False, "no refresh before 80% of the lifetime");
    }

    [Test]
    public async Task GetTokenAsync_BackgroundRefreshFailed_NoNewAttemptBeforeBackoff()
    {
        using var h = new ProviderHarness();
        var first = await h.Provider.GetTokenAsync();
        h.Endpoint.Respond = (n, _) => n == 2
            ? StubTokenEndpoint.Json(HttpStatusCode.InternalServerError, """{"detail":"Internal server error"}""")
            : StubTokenEndpoint.Token($"token-{n}");
        h.Time.Advance(TimeSpan.FromSeconds(3599 - 299));
        _ = h.Provider.GetTokenAsync();
        // The warning is logged once the retry is armed: only then does advancing fake time reach it.
        await Poll.UntilAsync(() => h.Logs.GetSnapshot().Any(r => r.Id.Id == 4), "the background-refresh-failed warning (event 4)");
        Assert.That(h.Caching.Lifecycle!.State.Failure?.Attempts, Is.EqualTo(1));

        // The back-off is 1 s on the injected clock. Just short of it, however often callers ask, no attempt starts:
        // a caller that triggered one would find it under way as soon as its call returned.
        h.Time.Advance(TimeSpan.FromMilliseconds(999));
        for (var i = 0; i < 50; i++)
        {
            Assert.That(h.Provider.GetTokenAsync().Result, Is.SameAs(first));
            Assert.That(h.Caching.HasInflightRequest, Is.False, "a failed refresh must back off before trying again");
        }

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));

        // At 1 s the lifecycle's own timer sends the retry: no caller is needed.
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await h.Endpoint.WaitForRequestsAsync(3);
    }

    [TestCase(120, 126.0, TestName = "GetTokenAsync_BackgroundRefreshThrottled_HonoursRetryAfter")] // Retry-After plus the 5 % jitter of the harness's midpoint
    [TestCase(3600, 149.5, TestName = "GetTokenAsync_BackgroundRefreshThrottled_RetryAfterCappedAtHalfTimeLeft")]
    public async Task GetTokenAsync_BackgroundRefreshThrottled_RetryDelay(int retryAfterSeconds, double expectedDelaySeconds)
    {
        using var h = new ProviderHarness();
        await h.Provider.GetTokenAsync();
        h.Endpoint.Respond = (n, _) =>
        {
            if (n != 2)
            {
                return StubTokenEndpoint.Token($"token-{n}");
            }

            var throttled = StubTokenEndpoint.Json(HttpStatusCode.TooManyRequests, """{"detail":"Too many requests. Please try again later"}""");
            throttled.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(retryAfterSeconds));
            return throttled;
        };

        h.Time.Advance(TimeSpan.FromSeconds(3599 - 299)); // 299 s left: half is 149.5 s
        _ = h.Provider.GetTokenAsync();
        await Poll.UntilAsync(() => h.Logs.GetSnapshot().Any(r => r.Id.Id == 4), "the background-refresh-failed warning (event 4)");

        var warning = h.Logs.GetSnapshot().Single(r => r.Id.Id == 4);
        Assert.That(TimeSpan.Parse(warning.GetStructuredStateValue("RetryDelay")!, System.Globalization.CultureInfo.InvariantCulture),
            Is.EqualTo(TimeSpan.FromSeconds(expectedDelaySeconds)));
    }

    [Test]
    public async Task RefreshTokenAsync_CallerCancels_ThrowsPromptlyAndSharedRequestStillCompletes()
    {
        using var h = new ProviderHarness();
        var rejected = await h.Provider.GetTokenAsync();
        h.Endpoint.Hold();
        using var cancel = new CancellationTokenSource();

        var refresh = h.Provider.RefreshTokenAsync(rejected, cancel.Token).AsTask();
        await h.Endpoint.WaitForRequestsAsync(2);
        cancel.Cancel();

        Assert.That(async () => await refresh.WaitAsync(TimeSpan.FromSeconds(5)), Throws.InstanceOf<OperationCanceledException>());
        h.Endpoint.Release();
        await Poll.UntilAsync(() => h.Caching.Lifecycle?.State.Token?.Value == "token-2", "the shared request to publish token-2");
    }

    [Test]
    public async Task RefreshTokenAsync_StaleTokenWhileSharedCacheHoldsNewer_ReturnsCachedWithoutRequest()
    {
        using var h = new ProviderHarness(services: s => s.AddRapidSosAuthentication("second", o =>
        {
            o.BaseAddress = new Uri("https://api.test.example/");
            o.ClientId = "client-1";
            o.ClientSecret = ProviderHarness.Secret;
        }));
        var current = await h.Provider.GetTokenAsync();
        var stale = new AccessToken("some-old-token", h.Time.GetUtcNow().AddMinutes(1));

        var result = await h.Services.GetRequiredKeyedService<ITokenProvider>("second").RefreshTokenAsync(stale);

        Assert.That(result, Is.SameAs(current));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public async Task GetTokenAsync_PasswordRotated_NextRequestUsesNewPasswordAndOldTokenIsNotServed()
    {
        var password = "first-password";
        var rotation = new ManualChangeTokenSource();
        using var h = new ProviderHarness(
            o =>
            {
                o.GrantType = RapidSosGrantType.Password;
                o.Username = "dispatcher@psap.example";
                o.Password = password;
            },
            s => s.AddSingleton<Microsoft.Extensions.Options.IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation));
        var old = await h.Provider.GetTokenAsync();

        password = "second-password";
        rotation.Change();
        var fresh = await h.Provider.GetTokenAsync();

        Assert.That(fresh.Value, Is.Not.EqualTo(old.Value));
        Assert.That(h.Endpoint.Requests.Last().Form["password"], Is.EqualTo("second-password"));
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

    [Test]
    public async Task GetTokenAsync_CacheCompacted_TokenEntryIsNotEvicted()
    {
        using var h = new ProviderHarness();
        await h.Provider.GetTokenAsync();

        ((Microsoft.Extensions.Caching.Memory.MemoryCache)h.Cache).Compact(1.0);

        Assert.That(h.Cache.TryGetValue(h.Caching.Lifecycle!.Key, out _), Is.True, "memory pressure must not force a token request");
    }

    [Test]
    public async Task GetTokenAsync_CacheEntryRemoved_TokenIsRetiredAndReplaced()
    {
        using var h = new ProviderHarness();
        await h.Provider.GetTokenAsync();

        h.Cache.Remove(h.Caching.Lifecycle!.Key);
        await Poll.UntilAsync(() => !h.Caching.Lifecycle!.State.HasToken, "the removed entry's token to be retired");

        Assert.That((await h.Provider.GetTokenAsync()).Value, Is.EqualTo("token-2"));
    }
}
