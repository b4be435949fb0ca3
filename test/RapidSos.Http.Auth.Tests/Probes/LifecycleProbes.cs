using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Probes;

/// <summary>Probes of the token lifecycle: each fails if the library breaks a promise.</summary>
[CancelAfter(10_000)]
public class LifecycleProbes
{
    private static ProviderHarness WithClock(ProbeClock clock, Action<RapidSosAuthOptions>? configure = null) =>
        new(configure, s => s.AddSingleton<TimeProvider>(clock));

    // ---------------------------------------------------------------- dispose

    [Test]
    public async Task Probe_Dispose_RequestInFlight_WaitersFailWithObjectDisposedAtOnce()
    {
        var h = new ProviderHarness();
        h.Endpoint.Hold();
        var caller = h.Provider.GetTokenAsync().AsTask();
        await h.Endpoint.WaitForRequestsAsync(1);
        var lifecycle = h.Caching.Lifecycle!;

        h.Dispose();
        var ended = $"after dispose: Ended={lifecycle.State.Ended}, Disposed={lifecycle.State.Disposed}";
        Exception? outcome;
        try
        {
            await caller.WaitAsync(Probe.Bound);
            outcome = null;
        }
        catch (Exception ex)
        {
            outcome = ex;
        }
        finally
        {
            h.Endpoint.Release();
        }

        Assert.That(outcome, Is.InstanceOf<ObjectDisposedException>(),
            "a waiter caught in flight by container disposal must fail with ObjectDisposedException at once (got: " + outcome?.GetType().Name + "; " + ended + ")");
    }

    [Test]
    public async Task Probe_Dispose_ScheduledRetryPending_WaitersFailWithObjectDisposed_NoLaterRequest()
    {
        var h = new ProviderHarness();
        h.Endpoint.Respond = (_, _) => Probe.Status(HttpStatusCode.ServiceUnavailable);
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));
        var waiter = h.Provider.GetTokenAsync().AsTask(); // joins the retry scheduled 250 ms out
        Assert.That(waiter.IsCompleted, Is.False);

        h.Dispose();
        var outcome = await Probe.Outcome(waiter, "a waiter of a scheduled retry after dispose");
        h.Time.Advance(TimeSpan.FromSeconds(10));

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2), "no token request after dispose");
        Assert.That(outcome, Is.InstanceOf<ObjectDisposedException>(), "got " + outcome?.GetType().Name + ": " + outcome?.Message);
    }

    // ---------------------------------------------------------------- late timers / clock


    [Test]
    public async Task Probe_WallClockJumpsBack_WaitersOfScheduledRetryAreNotStranded()
    {
        var clock = new ProbeClock();
        using var h = WithClock(clock);
        h.Endpoint.Respond = (n, _) => n <= 2 ? Probe.Status(HttpStatusCode.ServiceUnavailable) : StubTokenEndpoint.Token($"token-{n}");
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        var waiter = h.Provider.GetTokenAsync().AsTask(); // the retry is 250 ms out

        clock.Offset = TimeSpan.FromHours(-1); // NTP steps the wall clock back an hour
        clock.Fake.Advance(TimeSpan.FromMilliseconds(300)); // 300 ms really pass: the retry is due

        var outcome = await Probe.Outcome(waiter, "a waiter of the scheduled retry after the wall clock stepped back");
        Assert.That(outcome, Is.Null, "waiter failed: " + outcome?.Message);
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3));
    }

    [Test]
    public async Task Probe_WallClockJumpsBack_RefusalWindowDoesNotGrowToAnHour()
    {
        var clock = new ProbeClock();
        using var h = WithClock(clock);
        h.Endpoint.Respond = (n, _) => n == 1 ? Probe.Status(HttpStatusCode.BadRequest) : StubTokenEndpoint.Token($"token-{n}");
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        clock.Offset = TimeSpan.FromHours(-1);
        clock.Fake.Advance(TimeSpan.FromSeconds(1.5)); // the 1 s refusal window has really passed

        Exception? ex = null;
        try
        {
            await h.Provider.GetTokenAsync().AsTask().WaitAsync(Probe.Bound);
        }
        catch (RapidSosAuthenticationException e)
        {
            ex = e;
        }

        Assert.That(ex, Is.Null, $"callers still fail at once: RetryAfter={(ex as RapidSosAuthenticationException)?.RetryAfter}");
    }

    [Test]
    public async Task Probe_WallClockJumpsBack_TokenNotServedPastItsRealLifetime()
    {
        var clock = new ProbeClock();
        using var h = WithClock(clock, o => o.RefreshBeforeExpiry = TimeSpan.Zero);
        var first = await h.Provider.GetTokenAsync();

        clock.Offset = TimeSpan.FromHours(-1);
        clock.Fake.Advance(TimeSpan.FromSeconds(3600)); // the token's 3599 s have really passed

        var token = await h.Provider.GetTokenAsync().AsTask().WaitAsync(Probe.Bound);
        Assert.That(token.Value, Is.Not.EqualTo(first.Value), "a token older than its granted lifetime is still served");
    }

    // ---------------------------------------------------------------- 401 spacing

    [Test]
    public async Task Probe_RouteAlways401_ConcurrentResendsOfOneReplacement_CountAsOneStrike()
    {
        using var h = new ProviderHarness();
        var api = new AlwaysUnauthorizedApi();
        using var client = Probe.Client(h, api);
        h.Endpoint.Hold();

        var calls = Enumerable.Range(0, 16).Select(_ => Task.Run(() => client.GetAsync("v1/always-401"))).ToArray();
        await h.Endpoint.WaitForRequestsAsync(1);
        h.Endpoint.Release();
        var responses = await Task.WhenAll(calls).WaitAsync(Probe.Bound);
        Assert.That(responses.All(r => r.StatusCode == HttpStatusCode.Unauthorized));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2), "one cold fetch, one replacement");

        // ONE replacement was rejected on the resend: replacements are held back 1 s (jitter midpoint), not 30 s.
        h.Time.Advance(TimeSpan.FromSeconds(1.05));
        using var later = await client.GetAsync("v1/always-401").WaitAsync(Probe.Bound);

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3),
            $"after 1 s a 401 must start a new replacement; strikes={h.Caching.Lifecycle!.State.ReplacementStrikes}, held until {h.Caching.Lifecycle.State.ReplacementsAllowedAt:O} (now {h.Time.GetUtcNow():O})");
    }

    [Test]
    public async Task Probe_RouteAlways401_GatewayReissuesSameToken_TokenRequestsStaySpaced()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Token("same-token"); // Apigee-style: same token until it expires
        var api = new AlwaysUnauthorizedApi();
        using var client = Probe.Client(h, api);

        for (var i = 0; i < 10; i++)
        {
            using var r = await client.GetAsync("v1/always-401").WaitAsync(Probe.Bound);
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }

        Assert.That(h.Endpoint.RequestCount, Is.LessThanOrEqualTo(3),
            "ten calls in the same instant to a route that always 401s must not each cost a token request");
    }

    // ---------------------------------------------------------------- expires_in


    // ---------------------------------------------------------------- sync callers



    // ---------------------------------------------------------------- failure regimes

    [Test]
    public async Task Probe_FailedRefreshAheadStreak_ThenExpiry_FirstForegroundRetryGoesOutAtOnce()
    {
        using var h = new ProviderHarness(o => o.RefreshBeforeExpiry = TimeSpan.FromMinutes(5));
        h.Endpoint.Respond = (n, _) => n == 1 ? StubTokenEndpoint.Token("token-1", "10") : Probe.Status(HttpStatusCode.ServiceUnavailable);
        await h.Provider.GetTokenAsync();
        h.Time.Advance(TimeSpan.FromSeconds(8)); // refresh window: 2 s (a fifth of 10 s)
        _ = h.Provider.GetTokenAsync();

        // Let the background retries run by themselves until the token is gone.
        for (var step = 0; step < 60; step++)
        {
            await Poll.UntilAsync(() => !h.Caching.HasInflightRequest, "the background retry to finish", Probe.Bound);
            h.Time.Advance(TimeSpan.FromMilliseconds(37));
        }

        var lc = h.Caching.Lifecycle!;
        await Poll.UntilAsync(() => !h.Caching.HasInflightRequest, "quiet", Probe.Bound);
        Assert.That(lc.State.HasToken, Is.False, "the token has expired");
        var background = h.Endpoint.RequestCount;

        // No valid token now: a first transient failure is retried at once by the next caller.
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync().AsTask().WaitAsync(Probe.Bound));
        var failure = lc.State.Failure;
        var second = h.Provider.GetTokenAsync().AsTask();
        var sentAtOnce = h.Caching.HasInflightRequest; // set synchronously when the caller sends

        Assert.That(sentAtOnce, Is.True,
            $"after {background - 1} failed background refreshes, the first foreground failure counts as attempt {failure?.Attempts}: " +
            $"callers wait until {failure?.NextAttemptAt:O}, {(failure!.NextAttemptAt - h.Time.GetUtcNow()).TotalSeconds} s away, instead of a retry at once");
        _ = second;
    }
}
