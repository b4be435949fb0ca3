using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Internal;

/// <summary>
/// The lifecycle of one credential set, through the real registration: failure spacing by kind, refresh ahead that
/// retries by itself, 401 replacements, sharing between registrations, diagnostics that throw, expiry checked on
/// the clock, and the end of a lifecycle. Time is a <see cref="Microsoft.Extensions.Time.Testing.FakeTimeProvider"/>
/// and jitter is fixed at its midpoint, so delays are exactly the retry rules' table.
/// </summary>
public class TokenLifecycleTests
{
    private const string InvalidClient = """{"ErrorCode":"invalid_client","Error":"Client credentials are invalid"}""";

    [Test]
    public async Task GetTokenAsync_Refused_CallersShareOneRequestThenFailAtOnceUntilTheBackoffPasses()
    {
        using var h = new ProviderHarness();
        var accept = false;
        h.Endpoint.Respond = (n, _) => accept ? StubTokenEndpoint.Token($"token-{n}") : StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, InvalidClient);
        h.Endpoint.Hold();
        var first = Enumerable.Range(0, 32).Select(_ => Task.Run(() => h.Provider.GetTokenAsync().AsTask())).ToArray();
        await h.Endpoint.WaitForRequestsAsync(1);
        h.Endpoint.Release();
        foreach (var caller in first)
        {
            Assert.ThrowsAsync<RapidSosAuthenticationException>(() => caller);
        }

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1), "32 callers shared one refused request");

        // Inside the window: every caller fails at once, saying when to retry, and nothing reaches the gateway.
        for (var i = 0; i < 100; i++)
        {
            var call = h.Provider.GetTokenAsync();
            Assert.That(call.IsFaulted, Is.True, "a refused secret fails callers at once");
            var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await call);
            Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(ex.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(1)));
        }

        h.Time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));

        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        var second = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));
        Assert.That(second!.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(2)), "1 s, then 2 s");

        // Fixed at the gateway: the first call after the window succeeds.
        accept = true;
        h.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.That((await h.Provider.GetTokenAsync()).Value, Is.EqualTo("token-3"));
    }

    [Test]
    public async Task GetTokenAsync_RateLimitedWithRetryAfter_NoRequestBeforeItAndCallersFailAtOnce()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (n, _) =>
        {
            if (n > 1)
            {
                return StubTokenEndpoint.Token($"token-{n}");
            }

            var response = StubTokenEndpoint.Json(HttpStatusCode.TooManyRequests, """{"detail":"Too many requests. Please try again later"}""");
            response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(2));
            return response;
        };

        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        h.Time.Advance(TimeSpan.FromSeconds(1.9));
        var meanwhile = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(meanwhile!.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(meanwhile.RetryAfter!.Value.TotalSeconds, Is.GreaterThan(0).And.LessThanOrEqualTo(2.2 - 1.9 + 0.001));
        Assert.That(meanwhile.Message, Does.Contain("No new token request is sent"));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1), "not before the Retry-After");

        h.Time.Advance(meanwhile.RetryAfter.Value);
        Assert.That((await h.Provider.GetTokenAsync()).Value, Is.EqualTo("token-2"));
    }

    [Test]
    public async Task GetTokenAsync_Transient_FirstRetryAtOnceThenCallersWaitForAndShareTheScheduledAttempt()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (n, _) => n <= 2
            ? StubTokenEndpoint.Json(HttpStatusCode.ServiceUnavailable, """{"detail":"down"}""")
            : StubTokenEndpoint.Token($"token-{n}");

        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        var second = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2), "a single blip costs only its own callers: the next goes out at once");
        Assert.That(second!.RetryAfter, Is.EqualTo(TimeSpan.FromMilliseconds(250)));

        var waiting = Enumerable.Range(0, 10).Select(_ => h.Provider.GetTokenAsync().AsTask()).ToArray();
        h.Time.Advance(TimeSpan.FromMilliseconds(249));
        Assert.That(waiting.Any(w => w.IsCompleted), Is.False, "callers wait for the next attempt instead of failing");
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2), "nobody starts their own request");

        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        var tokens = await Task.WhenAll(waiting);

        Assert.That(tokens.Select(t => t.Value), Has.All.EqualTo("token-3"));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3));
    }

    [Test]
    public async Task GetTokenAsync_AfterASuccess_TheSpacingStartsOver()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (n, _) => n is 2
            ? StubTokenEndpoint.Token($"token-{n}")
            : StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, InvalidClient);
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.That((await h.Provider.GetTokenAsync()).Value, Is.EqualTo("token-2"));

        h.Time.Advance(TimeSpan.FromHours(1));
        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(1)), "the first failure after a success waits 1 s, not 2 s");
    }

    [Test]
    public async Task GetTokenAsync_CredentialsRotatedDuringARefusal_NextCallSendsAtOnceWithTheNewSecret()
    {
        var secret = "wrong-secret";
        var rotation = new ManualChangeTokenSource();
        using var h = new ProviderHarness(o => o.ClientSecret = secret, s => s.AddSingleton<IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation));
        h.Endpoint.Respond = (n, request) => request.Content!.ReadAsStringAsync().Result.Contains("wrong-secret", StringComparison.Ordinal)
            ? StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, InvalidClient)
            : StubTokenEndpoint.Token($"token-{n}");
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        secret = "fixed-secret";
        rotation.Change();

        Assert.That((await h.Provider.GetTokenAsync()).Value, Is.EqualTo("token-2"), "a fixed secret works on the next call");
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));
    }

    [Test]
    public async Task BackgroundRefresh_KeepsFailing_RetriesByItselfUntilTheTokenExpiresThenStops()
    {
        using var h = new ProviderHarness();
        var first = await h.Provider.GetTokenAsync();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.ServiceUnavailable, """{"detail":"down"}""");
        h.Time.Advance(TimeSpan.FromSeconds(3599 - 299));
        Assert.That(h.Provider.GetTokenAsync().Result, Is.SameAs(first), "the one caller that starts the refresh keeps its token");

        // No caller from here on: the lifecycle's timer alone retries (1, 2, 4, 8, 16, 30 s ... within 299 s).
        var expected = 2;
        foreach (var delay in new[] { 1, 2, 4, 8, 16, 30, 30 })
        {
            await h.Endpoint.WaitForRequestsAsync(expected);
            await Poll.UntilAsync(() => h.Caching.Lifecycle!.State.Request is { IsSent: false }, "the retry to be scheduled");
            h.Time.Advance(TimeSpan.FromSeconds(delay));
            expected++;
        }

        await h.Endpoint.WaitForRequestsAsync(expected);
        var beforeExpiry = h.Endpoint.RequestCount;
        h.Time.Advance(TimeSpan.FromMinutes(5));
        await Poll.UntilAsync(() => !h.Caching.Lifecycle!.State.HasToken, "the token to expire");
        var atExpiry = h.Endpoint.RequestCount;
        for (var i = 0; i < 60; i++)
        {
            h.Time.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.That(beforeExpiry, Is.GreaterThanOrEqualTo(9));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(atExpiry), "an unused credential set makes no request after its token expired");
        Assert.That(h.Caching.Lifecycle!.State.Request, Is.Null);
    }

    [Test]
    public async Task RefreshTokenAsync_ReplacementUnderWay_OtherCallersKeepTheCurrentTokenWithoutWaiting()
    {
        using var h = new ProviderHarness();
        var current = await h.Provider.GetTokenAsync();
        h.Endpoint.Hold();

        var replacement = h.Provider.RefreshTokenAsync(current).AsTask();
        await h.Endpoint.WaitForRequestsAsync(2);
        for (var i = 0; i < 100; i++)
        {
            var call = h.Provider.GetTokenAsync();
            Assert.That(call.IsCompletedSuccessfully, Is.True, "a caller that did not get a 401 never waits for the replacement");
            Assert.That(call.Result, Is.SameAs(current));
        }

        h.Endpoint.Release();
        Assert.That((await replacement).Value, Is.EqualTo("token-2"));
        Assert.That((await h.Provider.GetTokenAsync()).Value, Is.EqualTo("token-2"));
    }

    [Test]
    public async Task RefreshTokenAsync_TwoRevocationsInARow_EachIsReplacedAtOnce()
    {
        using var h = new ProviderHarness();
        var first = await h.Provider.GetTokenAsync();

        var second = await h.Provider.RefreshTokenAsync(first);
        var third = await h.Provider.RefreshTokenAsync(second);

        Assert.That(new[] { first.Value, second.Value, third.Value }, Is.EqualTo(new[] { "token-1", "token-2", "token-3" }));
    }

    [Test]
    public async Task GetTokenAsync_TwoRegistrationsWithSameCredentials_HundredConcurrentCallersOneRequest()
    {
        using var h = new ProviderHarness(services: s => ProviderHarness.AddSameCredentials(s, "second"));
        var other = h.Services.GetRequiredKeyedService<ITokenProvider>("second");
        h.Endpoint.Hold();

        var callers = Enumerable.Range(0, 100)
            .Select(i => Task.Run(() => (i % 2 == 0 ? h.Provider : other).GetTokenAsync().AsTask()))
            .ToArray();
        await h.Endpoint.WaitForRequestsAsync(1);
        h.Endpoint.Release();
        var tokens = await Task.WhenAll(callers);

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
        Assert.That(tokens.Distinct().Count(), Is.EqualTo(1));
    }

    [Test]
    public async Task GetTokenAsync_RepeatedColdStampedesOnAZeroLatencyEndpoint_AlwaysExactlyOneRequest()
    {
        for (var run = 0; run < 150; run++)
        {
            using var h = new ProviderHarness();
            using var start = new ManualResetEventSlim();
            var callers = Enumerable.Range(0, 64).Select(_ => Task.Run(async () =>
            {
                start.Wait();
                var seen = new HashSet<string>();
                for (var call = 0; call < 20; call++)
                {
                    seen.Add((await h.Provider.GetTokenAsync()).Value);
                }

                return seen;
            })).ToArray();
            start.Set();
            var seen = (await Task.WhenAll(callers)).SelectMany(s => s).Distinct().ToArray();

            Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1), $"run {run}");
            Assert.That(seen, Is.EqualTo(new[] { "token-1" }), $"run {run}");
        }
    }

    [Test]
    public async Task EveryPath_LoggerActivityAndMeterListenersThrow_TokensRefreshesAndRetriesStillWork()
    {
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RapidSosAuthDefaults.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = _ => throw new InvalidOperationException("listener broke on start"),
            ActivityStopped = _ => throw new InvalidOperationException("listener broke on stop"),
        };
        ActivitySource.AddActivityListener(activities);
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == RapidSosAuthDefaults.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((_, _, _, _) => throw new InvalidOperationException("meter broke"));
        meters.SetMeasurementEventCallback<double>((_, _, _, _) => throw new InvalidOperationException("meter broke"));
        meters.Start();
        using var h = new ProviderHarness(services: s => s.AddLogging(b => b.AddProvider(new ThrowingLoggerProvider())));
        var api = new RecordingApiHandler();
        var handler = new BearerTokenHandler(h.Provider, h.Options.Get(string.Empty), h.Services.GetRequiredService<ILogger<BearerTokenHandler>>()) { InnerHandler = api };
        using var client = new HttpClient(handler) { BaseAddress = new Uri("https://api.test.example/") };

        var first = await h.Provider.GetTokenAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(h.Provider.GetTokenAsync().Result, Is.SameAs(first), "a cache hit with a throwing meter");

        h.Time.Advance(TimeSpan.FromSeconds(3599 - 299));
        Assert.That(h.Provider.GetTokenAsync().Result, Is.SameAs(first));
        await Poll.UntilAsync(() => h.Caching.Lifecycle!.State.Token?.Value == "token-2", "the refresh ahead to complete despite the throwing listeners");

        api.RejectedTokens.Add("token-2");
        using var response = await client.GetAsync("v1/ping").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the 401 retry logs through a throwing logger");
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3));
        Assert.That(h.Caching.HasInflightRequest, Is.False, "nothing stranded");
    }

    [Test]
    public async Task GetTokenAsync_TokenExpiredWhileItsRequestWasInFlight_IsNotHandedToWaiters()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Hold();
        var waiter = h.Provider.GetTokenAsync().AsTask();
        await h.Endpoint.WaitForRequestsAsync(1);

        h.Time.Advance(TimeSpan.FromSeconds(3600));
        h.Endpoint.Release();
        var token = await waiter;

        Assert.That(token.Value, Is.EqualTo("token-2"), "the expired token-1 went back for one fresh request");
        Assert.That(token.ExpiresAt, Is.GreaterThan(h.Time.GetUtcNow()));
    }

    [Test]
    public async Task RefreshTokenAsync_ClockPastExpiryBeforeTheTimerRan_FetchesInsteadOfServingTheExpiredToken()
    {
        using var h = new ProviderHarness();
        var first = await h.Provider.GetTokenAsync();
        h.Endpoint.Hold();

        // The clock moves past expiry, but the stub holds the refresh: the 401 path decides by the clock.
        h.Time.Advance(TimeSpan.FromSeconds(3599));
        var replacement = h.Provider.RefreshTokenAsync(new AccessToken("other-token", first.ExpiresAt)).AsTask();
        await h.Endpoint.WaitForRequestsAsync(2);
        h.Endpoint.Release();

        Assert.That((await replacement).Value, Is.Not.EqualTo(first.Value));
    }

    [Test]
    public async Task Dispose_RequestInFlight_WaitersGetObjectDisposedExceptionAndNoErrorIsLogged()
    {
        var h = new ProviderHarness();
        h.Endpoint.Hold();
        var waiter = h.Provider.GetTokenAsync().AsTask();
        await h.Endpoint.WaitForRequestsAsync(1);
        var lifecycle = h.Caching.Lifecycle!;

        h.Dispose();

        Assert.ThrowsAsync<ObjectDisposedException>(() => waiter.WaitAsync(TimeSpan.FromSeconds(30)));
        h.Endpoint.Release();
        await Poll.UntilAsync(() => h.Endpoint.Requests.Count == 1, "the held request to finish");
        Assert.That(lifecycle.State.Ended, Is.True);
        Assert.That(h.Logs.GetSnapshot().Where(r => r.Level >= LogLevel.Error), Is.Empty);
    }

    [Test]
    public async Task Dispose_StopsTheTimerAndDropsTheToken()
    {
        var h = new ProviderHarness();
        await h.Provider.GetTokenAsync();
        var lifecycle = h.Caching.Lifecycle!;

        h.Dispose();
        h.Time.Advance(TimeSpan.FromHours(2));

        Assert.That(lifecycle.State.Ended && !lifecycle.State.HasToken && lifecycle.State.Token is null, Is.True);
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1), "no timer fired a refresh after the dispose");
    }

    [Test]
    public void Dispose_ManyContainers_LeaveNoTokenReachable()
    {
        var tokens = Enumerable.Range(0, 50).Select(_ => BuildUseAndDispose()).ToArray();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.That(tokens.Count(t => t.IsAlive), Is.Zero, "a disposed container keeps no token alive through a timer");
    }

    [Test]
    public async Task OptionsRotated_SupersededLifecycleIsRetiredAndLeavesTheCache()
    {
        var secret = "first-secret";
        var rotation = new ManualChangeTokenSource();
        using var h = new ProviderHarness(o => o.ClientSecret = secret, s => s.AddSingleton<IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation));
        await h.Provider.GetTokenAsync();
        var old = h.Caching.Lifecycle!;

        secret = "second-secret";
        rotation.Change();

        Assert.That(old.State.Ended, Is.True);
        Assert.That(h.Cache.TryGetValue(old.Key, out _), Is.False);
        Assert.That(h.Services.GetRequiredService<TokenLifecycleStore>().Count, Is.EqualTo(1), "only the new credentials' lifecycle");
    }

    [Test]
    public async Task OptionsRotated_CredentialsStillUsedByAnotherRegistration_TheirLifecycleStays()
    {
        var secret = ProviderHarness.Secret;
        var rotation = new ManualChangeTokenSource();
        using var h = new ProviderHarness(o => o.ClientSecret = secret, s =>
        {
            s.AddSingleton<IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation);
            ProviderHarness.AddSameCredentials(s, "second");
        });
        var other = h.Services.GetRequiredKeyedService<ITokenProvider>("second");
        var shared = await h.Provider.GetTokenAsync();
        Assert.That(await other.GetTokenAsync(), Is.SameAs(shared));
        var lifecycle = h.Caching.Lifecycle!;

        secret = "rotated-secret";
        rotation.Change();

        Assert.That(lifecycle.State.Ended, Is.False);
        Assert.That(await other.GetTokenAsync(), Is.SameAs(shared), "the other registration keeps its token");
        Assert.That((await h.Provider.GetTokenAsync()).Value, Is.EqualTo("token-2"));
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
    public void GetTokenAsync_CallerCancelled_ThrowsOperationCanceled()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Hold();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(20));

        Assert.That(async () => await h.Provider.GetTokenAsync(cancel.Token), Throws.InstanceOf<OperationCanceledException>());
        h.Endpoint.Release();
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
        using var h = new ProviderHarness(services: s => ProviderHarness.AddSameCredentials(s, "second"));
        var current = await h.Provider.GetTokenAsync();
        var stale = new AccessToken("some-old-token", h.Time.GetUtcNow().AddMinutes(1));

        var result = await h.Services.GetRequiredKeyedService<ITokenProvider>("second").RefreshTokenAsync(stale);

        Assert.That(result, Is.SameAs(current));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
    }

    private static WeakReference BuildUseAndDispose()
    {
        var h = new ProviderHarness();
        var token = h.Provider.GetTokenAsync().AsTask().GetAwaiter().GetResult();
        var weak = new WeakReference(token);
        h.Dispose();
        return weak;
    }
}
