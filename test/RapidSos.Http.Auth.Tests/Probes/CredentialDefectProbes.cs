using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Probes;

/// <summary>
/// Probes of per-request credentials (issue 11) that failed when a reviewer wrote them, each stating the promise it
/// checks: now regression tests for the fixes. The one still explicit is a limit left as it is, with its reason.
/// </summary>
[CancelAfter(30_000)]
[NonParallelizable]
public class CredentialDefectProbes
{
    [Test]
    public async Task EvictedWhileACallerWaitsForAScheduledRetry_TheCallerIsServedByTheNextAttemptNotFailed()
    {
        // Agency A's first two token requests fail with 500: the third caller waits for the retry scheduled 250 ms later.
        var (h, api, client) = CredentialHarness.Start(o => o.MaxCredentialSets = 1);
        using var _ = h;
        var failuresOfA = 0;
        h.Endpoint.Respond = (n, request) =>
            request.Content!.ReadAsStringAsync().Result.Contains("client_id=agency-a", StringComparison.Ordinal) && Interlocked.Increment(ref failuresOfA) <= 2
                ? StubTokenEndpoint.Json(HttpStatusCode.InternalServerError, """{"error":"server_error"}""")
                : CredentialHarness.IssueNamedToken(n, request);
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var a = new RapidSosCredential("agency-a", "secret-a");
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await cache.GetTokenAsync(a));
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await cache.GetTokenAsync(a));
        var waiting = cache.GetTokenAsync(a).AsTask();
        Assert.That(waiting.IsCompleted, Is.False, "the caller waits for the scheduled retry, as a transient failure promises");

        // Another agency's first use drops A, the least recently used set (MaxCredentialSets = 1).
        await cache.GetTokenAsync(new RapidSosCredential("agency-b", "secret-b"));
        h.Time.Advance(TimeSpan.FromSeconds(1));

        // Promised: an evicted set is "fetched again if used again"; a caller inside it is served like any other.
        // Observed: the caller fails at once with the 500 of the previous attempt.
        var token = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(token.Value, Does.StartWith("agency-a."));
    }

    [Test]
    public async Task ClientAuthenticationReloaded_RunTimeCredentialEqualToTheRegistrationsOwn_NextTokenRequestUsesTheNewAuthentication()
    {
        var authentication = RapidSosClientAuthentication.FormFields;
        var rotation = new ManualChangeTokenSource();
        var (h, api, client) = CredentialHarness.Start(
            o => { o.ClientAuthentication = authentication; o.RefreshBeforeExpiry = TimeSpan.Zero; },
            s => s.AddSingleton<IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation));
        using var _ = h;
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var equal = new RapidSosCredential("client-1", ProviderHarness.Secret);
        await h.Provider.GetTokenAsync();
        await cache.GetTokenAsync(equal);

        // README, Many agencies: "A change of the registration's ... client authentication ... drops every set; they are rebuilt on next use."
        authentication = RapidSosClientAuthentication.BasicHeader;
        rotation.Change();
        h.Time.Advance(TimeSpan.FromHours(1)); // The token expired: the next use sends a token request.
        await cache.GetTokenAsync(equal);

        // The run-time set has its own lifecycle (no longer shared with the registration's own): 3 requests in all.
        var last = h.Endpoint.Requests.Last();
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3));
        Assert.That(last.Authorization, Does.StartWith("Basic "), "the rebuilt set sends with the new client authentication");
        Assert.That(last.Form.ContainsKey("client_secret"), Is.False);
    }

    [Test]
    public async Task Remove_UserUsedOnTwoRegistrations_DropsItsTokenAndEveryCopyOfThePassword()
    {
        var (h, api, client) = CredentialHarness.Start(
            o => { o.ClientId = null; o.ClientSecret = null; },
            s => s.AddRapidSosAuthentication("ecd", o => o.BaseAddress = new Uri("https://api.test.example/")));
        using var _ = h;
        var alerts = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var ecd = h.Services.GetRequiredKeyedService<IRapidSosTokenCache>("ecd");
        var store = h.Services.GetRequiredService<TokenLifecycleStore>();
        var user = RapidSosCredential.ForUser("agency-a", "secret-a", "dispatcher-7", "pw-7");
        var before = await alerts.GetTokenAsync(user);
        await ecd.GetTokenAsync(user);

        // Sign-out as the README shows it: tokens.Remove(user), "drop its token and every copy of the password the library holds".
        alerts.Remove(user);

        // Observed: the other registration's set still holds the lifecycle (its settings hold the password) and serves the old token.
        Assert.That(store.Count, Is.Zero, "no lifecycle, and so no TokenRequestSettings holding the password, is left");
        Assert.That(await ecd.GetTokenAsync(user), Is.Not.SameAs(before), "the signed-out user's token is not served any more");
    }

    [Test]
    public async Task Metrics_RegistrationsOwnCredentialsFirstUsedAsARunTimeCredential_StillTaggedByClientId()
    {
        var (h, api, client) = CredentialHarness.Start(o => o.RefreshBeforeExpiry = TimeSpan.Zero);
        using var _ = h;
        using var requests = new MetricCollector<long>(h.Services.GetRequiredService<RapidSosAuthMetrics>().TokenRequests);
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();

        // An agency whose credentials happen to be the registration's own is used through the resolver or the request first.
        await cache.GetTokenAsync(new RapidSosCredential("client-1", ProviderHarness.Secret));
        h.Time.Advance(TimeSpan.FromHours(1));
        await h.Provider.GetTokenAsync(); // The registration's own token request.

        // README, Observability: rapidsos.client_id is on "the registration's own credentials". Observed: missing, because
        // the shared lifecycle keeps the settings (IsRunTime = true) of whoever created it.
        await Poll.UntilAsync(() => requests.GetMeasurementSnapshot().Count == 2, "both token requests' measurements (recorded after their waiters are released)");
        var own = requests.GetMeasurementSnapshot().Last();
        Assert.That(own.Tags.ContainsKey("rapidsos.client_id"), Is.True);
    }

    [Test]
    [Explicit("left as is: a set dropped by eviction keeps its credential so callers still inside it move on to a fresh set; an equal instance's stale slot can keep it reachable until that instance is used again (it holds the same secret itself)")]
    public void Remove_AfterAnEvictionOfAnEqualInstancesSet_TheRemovedInstanceIsNotKeptReachableByTheLibrary()
    {
        using var h = new ProviderHarness(o => o.MaxCredentialSets = 1);
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var survivor = new RapidSosCredential("agency-a", "secret-" + "a");
        var removed = UseEvictAndRemove(cache, survivor);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        // Observed: survivor.Slot still points at the set dropped by the eviction, whose _credential is the removed
        // instance (a drop by eviction keeps it, for callers still inside): the library keeps it and its secret reachable.
        Assert.That(removed.IsAlive, Is.False);
        GC.KeepAlive(survivor);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference UseEvictAndRemove(IRapidSosTokenCache cache, RapidSosCredential survivor)
    {
        var first = new RapidSosCredential("agency-a", "secret-" + "a");
        cache.GetTokenAsync(first).AsTask().GetAwaiter().GetResult();
        cache.GetTokenAsync(survivor).AsTask().GetAwaiter().GetResult(); // survivor.Slot is first's set
        cache.GetTokenAsync(new RapidSosCredential("agency-b", "secret-b")).AsTask().GetAwaiter().GetResult(); // evicts it
        cache.GetTokenAsync(first).AsTask().GetAwaiter().GetResult(); // a new set for first
        cache.Remove(first);
        return new WeakReference(first);
    }
}
