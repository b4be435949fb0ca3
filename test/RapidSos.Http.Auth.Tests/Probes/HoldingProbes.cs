using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Probes;

/// <summary>Probes of promises that held when written; kept as regression guards.</summary>
[CancelAfter(10_000)]
public class HoldingProbes
{
    [Test]
    public async Task Probe_ColdStampede1000_HalfCancelMidWait_OneRequestNoStrandedWaiter()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Hold();
        using var cancel = new CancellationTokenSource();
        var calls = Enumerable.Range(0, 1000)
            .Select(i => Task.Run(() => h.Provider.GetTokenAsync(i % 2 == 0 ? cancel.Token : default).AsTask()))
            .ToArray();
        await h.Endpoint.WaitForRequestsAsync(1);
        cancel.Cancel();
        h.Endpoint.Release();

        await Task.WhenAll(calls.Select(c => c.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(Probe.Bound);
        Assert.That(calls.Where(c => c.IsCompletedSuccessfully).Select(c => c.Result.Value).Distinct(), Is.EqualTo(new[] { "token-1" }));
        Assert.That(calls.Where(c => !c.IsCompletedSuccessfully).All(c => c.IsCanceled || c.Exception?.InnerException is OperationCanceledException), Is.True);
        Assert.That(calls.Count(c => c.IsCompletedSuccessfully), Is.GreaterThanOrEqualTo(500));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Probe_RefusedThenTransientThen429ThenSuccess_SpacingAndReset()
    {
        using var h = new ProviderHarness(o => o.RefreshBeforeExpiry = TimeSpan.Zero);
        h.Endpoint.Respond = (n, _) => n switch
        {
            1 => Probe.Status(HttpStatusCode.BadRequest),
            2 => Probe.Status(HttpStatusCode.ServiceUnavailable),
            3 => Probe.Status(HttpStatusCode.TooManyRequests, retryAfter: TimeSpan.FromSeconds(10)),
            4 => StubTokenEndpoint.Token("token-4"),
            _ => Probe.Status(HttpStatusCode.Unauthorized),
        };

        var refused = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        Assert.That(refused!.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(1)));
        var atOnce = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        Assert.That(atOnce!.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1), "refused: callers fail at once without a request");

        h.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync()); // 503, attempt 2: 250 ms
        var waiting = h.Provider.GetTokenAsync().AsTask();
        Assert.That(waiting.IsCompleted, Is.False, "transient: callers wait for the next attempt");
        h.Time.Advance(TimeSpan.FromMilliseconds(250));
        var limited = (RapidSosAuthenticationException?)await Probe.Outcome(waiting, "a waiter of the 250 ms retry");
        Assert.That(limited!.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(limited.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(10.5)));
        var stillLimited = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        Assert.That(stillLimited!.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(10.5)));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3));

        h.Time.Advance(TimeSpan.FromSeconds(10.5));
        Assert.That((await h.Provider.GetTokenAsync()).Value, Is.EqualTo("token-4"));

        h.Time.Advance(TimeSpan.FromSeconds(3599));
        var again = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        Assert.That(again!.RetryAfter, Is.EqualTo(TimeSpan.FromSeconds(1)), "a success resets the spacing");
    }

    [Test]
    public async Task Probe_HugeRetryAfter_CappedAt60s_AndDateInThePastIsTransient()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (n, _) => n switch
        {
            1 => Probe.Status(HttpStatusCode.TooManyRequests, retryAfter: TimeSpan.FromDays(3650)),
            2 => Probe.Status(HttpStatusCode.ServiceUnavailable, retryAt: h.Time.GetUtcNow().AddHours(-1)),
            _ => StubTokenEndpoint.Token($"token-{n}"),
        };

        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        Assert.That(ex!.RetryAfter, Is.LessThanOrEqualTo(TimeSpan.FromSeconds(66)));
        h.Time.Advance(ex.RetryAfter!.Value);
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync()); // 503 with a date in the past
        // Still attempt 2 of a streak (transient: 250 ms), never an hour or a negative window.
        var next = h.Provider.GetTokenAsync().AsTask();
        h.Time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.That(await Probe.Outcome(next, "the retry after a past Retry-After date"), Is.Null);
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3));
    }

    [Test]
    public async Task Probe_RefreshAheadFailing_TimerRetriesWithoutCallers_OddSteps_ThenSucceeds()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (n, _) => n is >= 2 and <= 4 ? Probe.Status(HttpStatusCode.BadGateway) : StubTokenEndpoint.Token($"token-{n}");
        var first = await h.Provider.GetTokenAsync();
        h.Time.Advance(TimeSpan.FromSeconds(3599 - 299));
        _ = h.Provider.GetTokenAsync(); // starts the refresh; nobody calls again

        for (var i = 0; i < 40 && h.Caching.Lifecycle!.State.Token!.Value == first.Value; i++)
        {
            await Poll.UntilAsync(() => !h.Caching.HasInflightRequest, "the background attempt to finish", Probe.Bound);
            h.Time.Advance(TimeSpan.FromMilliseconds(370));
        }

        await Poll.UntilAsync(() => h.Caching.Lifecycle!.State.Token?.Value == "token-5", "token-5 from the timer's retries", Probe.Bound);
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(5));
    }

    [Test]
    public async Task Probe_RefreshAheadFailingUntilExpiry_IdleSetMakesNoRequestAfterExpiry()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (n, _) => n == 1 ? StubTokenEndpoint.Token("token-1", "100") : Probe.Status(HttpStatusCode.InternalServerError);
        await h.Provider.GetTokenAsync();
        h.Time.Advance(TimeSpan.FromSeconds(80)); // window 20 s
        _ = h.Provider.GetTokenAsync();
        for (var i = 0; i < 120; i++)
        {
            await Poll.UntilAsync(() => !h.Caching.HasInflightRequest, "quiet", Probe.Bound);
            h.Time.Advance(TimeSpan.FromMilliseconds(230));
        }

        await Poll.UntilAsync(() => !h.Caching.HasInflightRequest, "quiet", Probe.Bound);
        var atExpiry = h.Endpoint.RequestCount;
        Assert.That(atExpiry, Is.GreaterThan(3));
        for (var i = 0; i < 20; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(7));
        }

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(atExpiry));
        Assert.That(h.Caching.Lifecycle!.State.Request, Is.Null);
    }

    [Test]
    public async Task Probe_TimerExactlyAtExpiry_NextCallerFetches()
    {
        using var h = new ProviderHarness(o => o.RefreshBeforeExpiry = TimeSpan.Zero);
        await h.Provider.GetTokenAsync();
        h.Time.Advance(TimeSpan.FromSeconds(3599) - TimeSpan.FromTicks(1));
        Assert.That(h.Provider.GetTokenAsync().Result.Value, Is.EqualTo("token-1"));
        h.Time.Advance(TimeSpan.FromTicks(1));
        Assert.That((await h.Provider.GetTokenAsync()).Value, Is.EqualTo("token-2"));
    }

    [Test]
    public async Task Probe_RevokedTwiceInARow_And401DuringRefreshInFlight_OneReplacementEach()
    {
        using var h = new ProviderHarness();
        var api = new RecordingApiHandler();
        using var client = Probe.Client(h, api);
        (await client.GetAsync("v1/a")).Dispose();

        api.RejectedTokens.Add("token-1");
        using (var r = await client.GetAsync("v1/a"))
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        api.RejectedTokens.Add("token-2");
        using (var r = await client.GetAsync("v1/a"))
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3));

        h.Time.Advance(TimeSpan.FromSeconds(3599 - 299));
        h.Endpoint.Hold();
        _ = h.Provider.GetTokenAsync(); // refresh ahead now in flight
        api.RejectedTokens.Add("token-3");
        var calls = Enumerable.Range(0, 32).Select(_ => Task.Run(() => client.GetAsync("v1/a"))).ToArray();
        await Poll.UntilAsync(() => api.Sends.Count >= 3 + 32, "32 sends with token-3", Probe.Bound);
        Assert.That(h.Provider.GetTokenAsync().IsCompletedSuccessfully, Is.True, "other callers never wait for the replacement");
        h.Endpoint.Release();
        var responses = await Task.WhenAll(calls).WaitAsync(Probe.Bound);

        Assert.That(responses.All(r => r.StatusCode == HttpStatusCode.OK), Is.True);
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(4), "the 401s join the refresh in flight");
    }

    [Test]
    public async Task Probe_TwoRegistrationsSameCredentials_RotateOne_OtherKeepsSharedLifecycle()
    {
        var secret = ProviderHarness.Secret;
        var rotation = new ManualChangeTokenSource(); // default registration only
        using var h = new ProviderHarness(
            o => o.ClientSecret = secret,
            s =>
            {
                s.AddSingleton<IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation);
                ProviderHarness.AddSameCredentials(s, "second");
            });
        var second = (CachingTokenProvider)h.Services.GetRequiredKeyedService<ITokenProvider>("second");
        var store = h.Services.GetRequiredService<TokenLifecycleStore>();
        var t1 = await h.Provider.GetTokenAsync();
        Assert.That((await second.GetTokenAsync()).Value, Is.EqualTo(t1.Value));
        var shared = second.Lifecycle;

        secret = "rotated-secret";
        rotation.Change();
        Assert.That((await h.Provider.GetTokenAsync()).Value, Is.EqualTo("token-2"));
        Assert.That(second.Lifecycle, Is.SameAs(shared), "the second registration did not hear the default's change");
        Assert.That((await second.GetTokenAsync()).Value, Is.EqualTo("token-1"));
        Assert.That(store.Count, Is.EqualTo(2));
        Assert.That(shared!.State.HasToken, Is.True, "still used by 'second': not retired");
        second.Dispose();
        Assert.That(store.Count, Is.EqualTo(1));
    }

    [Test]
    public async Task Probe_RotationDuringInFlightRequest_WaitersComplete_NewCallersUseNewSecret()
    {
        var secret = "first-secret";
        var rotation = new ManualChangeTokenSource();
        using var h = new ProviderHarness(o => o.ClientSecret = secret, s => s.AddSingleton<IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation));
        _ = await h.Provider.GetTokenAsync();
        h.Time.Advance(TimeSpan.FromSeconds(3600)); // expired
        h.Endpoint.Hold();
        var waiter = h.Provider.GetTokenAsync().AsTask();
        await h.Endpoint.WaitForRequestsAsync(2);

        secret = "second-secret";
        rotation.Change();
        var fresh = h.Provider.GetTokenAsync().AsTask();
        await h.Endpoint.WaitForRequestsAsync(3);
        h.Endpoint.Release();

        Assert.That(await Probe.Outcome(waiter, "a waiter of the superseded lifecycle"), Is.Null);
        Assert.That(await Probe.Outcome(fresh, "a caller after the rotation"), Is.Null);
        Assert.That(h.Endpoint.Requests.Last().Form["client_secret"], Is.EqualTo("second-secret"));
        Assert.That(h.Services.GetRequiredService<TokenLifecycleStore>().Count, Is.EqualTo(1));
    }

    [Test]
    public async Task Probe_SecretsAndTokensNeverInLogsExceptionsOrToString()
    {
        using var h = new ProviderHarness();
        var api = new RecordingApiHandler();
        using var client = Probe.Client(h, api);
        (await client.GetAsync("v1/a")).Dispose();
        api.RejectedTokens.Add("token-1");
        api.RejectedTokens.Add("token-2");
        (await client.GetAsync("v1/a")).Dispose(); // replacement rejected: strike logged
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.BadRequest, $$"""{"detail":"bad secret {{ProviderHarness.Secret}} token-2"}""");
        h.Time.Advance(TimeSpan.FromSeconds(3600));
        var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        var again = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        var lc = h.Caching.Lifecycle!;
        var text = string.Join("\n", h.AllLogText, ex!.ToString(), again!.ToString(), lc.State.Failure?.ToString(), lc.State.ToString(), lc.Settings.ToString(), lc.Key.ToString());
        Assert.That(text, Does.Not.Contain(ProviderHarness.Secret));
        Assert.That(text, Does.Not.Contain("token-1").And.Not.Contain("Bearer token"));
    }
}
