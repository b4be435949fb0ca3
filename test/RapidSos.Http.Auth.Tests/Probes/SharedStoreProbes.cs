using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Probes;

/// <summary>
/// Issue 12's fleet-wide token sharing attacked from outside: hostile and broken stores, the whole fleet at once,
/// clocks that disagree, credentials, disposal, telemetry and memory. Several containers ("instances") share one
/// store and one fake clock; each has its own stub gateway. A probe that found a defect is Explicit and says so.
/// </summary>
[CancelAfter(60_000)]
public sealed class SharedStoreProbes
{
    private static readonly TimeSpan s_operationTimeout = TimeSpan.FromMilliseconds(250);

    private FakeTimeProvider _time = null!;
    private InMemorySharedTokenStore _inner = null!;
    private HostileSharedTokenStore _store = null!;
    private readonly List<ProviderHarness> _fleet = [];

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
        _inner = new InMemorySharedTokenStore(_time, s_operationTimeout);
        _store = new HostileSharedTokenStore(_inner);
    }

    [TearDown]
    public void TearDown()
    {
        _fleet.ForEach(h => h.Dispose());
        _fleet.Clear();
    }

    private int FleetRequests => _fleet.Sum(h => h.Endpoint.RequestCount);

    /// <summary>What the no-store path costs on the fake clock (nothing: the stub answers at once) plus what a broken store may add: one lookup, one lease call, one poll.</summary>
    private static TimeSpan StoreBound => s_operationTimeout + SharedTokenCoordinator.PollInterval + s_operationTimeout;

    // ------------------------------------------------------------------------------------------ a hostile store

    [Test]
    public async Task GetToken_StoreOperationTimeoutGetterThrows_GoesOnAlone()
    {
        var a = Instance("a");
        _store.Timeout = () => throw new InvalidOperationException("timeout getter broken");

        var outcome = await Probe.Outcome(a.Provider.GetTokenAsync().AsTask(), "the token");

        Assert.That(outcome, Is.Null, "a member that throws makes the instance go on alone: " + outcome?.Message);
    }

    [Test]
    public async Task GetToken_StoreOperationTimeoutIsMaxValue_GoesOnAlone()
    {
        var a = Instance("a");
        _store.Timeout = () => TimeSpan.MaxValue;

        var outcome = await Probe.Outcome(a.Provider.GetTokenAsync().AsTask(), "the token");

        Assert.That(outcome, Is.Null, "an out-of-range timeout is the store's error, not the caller's: " + outcome?.Message);
    }

    [TestCase("get")]
    [TestCase("set")]
    [TestCase("delete")]
    [TestCase("lease")]
    [TestCase("release")]
    [TestCase("wait")]
    [TestCase("all")]
    public async Task GetToken_StoreMemberThrowsSynchronously_EveryCallerStillGetsItsToken(string member)
    {
        var (a, b) = (Instance("a"), Instance("b"));
        bool Throws(string name) => member == name || member == "all";
        if (Throws("get"))
        {
            _store.Get = (_, _) => throw new InvalidOperationException("get");
        }

        if (Throws("set"))
        {
            _store.Set = (_, _, _, _) => throw new InvalidOperationException("set");
        }

        if (Throws("delete"))
        {
            _store.DeleteIfEqual = (_, _, _) => throw new InvalidOperationException("delete");
        }

        if (Throws("lease"))
        {
            _store.Lease = (_, _, _, _) => throw new InvalidOperationException("lease");
        }

        if (Throws("release"))
        {
            _store.Release = (_, _, _) => throw new InvalidOperationException("release");
        }

        if (Throws("wait"))
        {
            _store.Wait = (_, _, _) => throw new InvalidOperationException("wait");
        }

        // Cold start, a 401's replacement and a second instance: every member is called at least once.
        using var errors = new MetricCollector<long>(a.Services.GetRequiredService<RapidSosAuthMetrics>().SharedStoreErrors);
        var first = await a.Provider.GetTokenAsync();
        var replaced = await a.Provider.RefreshTokenAsync(first);
        var other = b.Provider.GetTokenAsync().AsTask();

        Assert.That(await DriveAsync(other, SharedTokenCoordinator.Lease + StoreBound, TimeSpan.FromMilliseconds(100)), Is.Not.Null, "b's token");
        Assert.That(new[] { first.Value, replaced.Value, (await other).Value }, Is.All.Not.Empty);
        Assert.That(replaced.Value, Is.Not.EqualTo(first.Value));
        Assert.That(FleetRequests, Is.LessThanOrEqualTo(3), "never more than one request per token needed");
        if (member != "wait")
        {
            // A wait is only needed (and its failure only counted) when another instance holds the lease.
            await Poll.UntilAsync(() => errors.GetMeasurementSnapshot().Count > 0, "the store's error to be counted, even one in the background");
        }
    }

    [Test]
    public async Task GetToken_EveryStoreCallNeverCompletesAndIgnoresCancellation_GoesOnAloneWithinTheStoreBound()
    {
        var a = Instance("a");
        _store.Get = (_, _) => HostileSharedTokenStore.Never<byte[]?>();
        _store.Set = (_, _, _, _) => HostileSharedTokenStore.Never();
        _store.DeleteIfEqual = (_, _, _) => HostileSharedTokenStore.Never<bool>();
        _store.Lease = (_, _, _, _) => HostileSharedTokenStore.Never<bool>();
        _store.Release = (_, _, _) => HostileSharedTokenStore.Never<bool>();
        _store.Wait = (_, _, _) => HostileSharedTokenStore.Never();

        var advanced = await DriveAsync(a.Provider.GetTokenAsync().AsTask(), StoreBound);

        Assert.That(advanced, Is.Not.Null, "the token came without the fake clock passing the store bound");
        Assert.That(a.Endpoint.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public async Task GetToken_StoreAnswersGarbageOfEverySize_IsAMissAndOneRequest()
    {
        var a = Instance("a");
        var garbage = new[]
        {
            Array.Empty<byte>(),
            new byte[] { 1 },
            [1, .. new byte[44]],
            [2, .. new byte[200]],
            [1, .. Enumerable.Range(0, 300).Select(i => (byte)i)],
            [1, .. new byte[SealedEnvelope.MaxSize]],
            new byte[10 * 1024 * 1024],
        };
        var next = 0;
        _store.Get = (_, _) => ValueTask.FromResult<byte[]?>(garbage[Interlocked.Increment(ref next) % garbage.Length]);

        var token = await a.Provider.GetTokenAsync();
        var replaced = await a.Provider.RefreshTokenAsync(token);

        Assert.That((token.Value, replaced.Value, a.Endpoint.RequestCount), Is.EqualTo(("a-token-1", "a-token-2", 2)));
    }

    [Test]
    public async Task GetToken_StoreAnswersAnotherCredentialSetsToken_IsAMissAndItsOwnRequest()
    {
        var other = Instance("other", o => o.ClientSecret = "another-secret");
        await other.Provider.GetTokenAsync();
        using var otherKeys = Protector("another-secret");
        using var ours = Protector();
        await SharedAsync(otherKeys, "other-token-1");

        // Every read of our keys is answered with the other set's value under the same purpose.
        _store.Get = (key, ct) => _inner.GetAsync(key.Replace(ours.TokenKey, otherKeys.TokenKey, StringComparison.Ordinal), ct);
        var a = Instance("a");
        var token = await a.Provider.GetTokenAsync();

        Assert.That((token.Value, a.Endpoint.RequestCount), Is.EqualTo(("a-token-1", 1)));
    }

    [Test]
    public async Task GetToken_StoreSwapsTheTokenAndTheRefusal_NeitherIsTakenForTheOther()
    {
        using var keys = Protector();
        var a = Instance("a");
        a.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.BadRequest, """{"detail":"Invalid client credentials."}""");
        Assert.That(async () => await a.Provider.GetTokenAsync(), Throws.InstanceOf<RapidSosAuthenticationException>());
        await Poll.UntilAsync(() => _inner.Snapshot().ContainsKey(keys.RefusalKey), "a to share its refusal");
        _store.Get = (key, ct) => _inner.GetAsync(key == keys.TokenKey ? keys.RefusalKey : key == keys.RefusalKey ? keys.TokenKey : key, ct);

        // The refusal, read as a token, is a miss; the token slot (empty), read as a refusal, is none: b asks itself.
        var b = Instance("b");
        var token = await b.Provider.GetTokenAsync().AsTask().WaitAsync(Probe.Bound);

        Assert.That((token.Value, b.Endpoint.RequestCount), Is.EqualTo(("b-token-1", 1)));
    }

    [Test]
    [Explicit("left as is: a token in the store is sealed under the client secret, so only a holder of the secret (or a gateway that issues tokens no header can carry, which the instance's own request refuses) can put one there; the waiting callers are bounded by the lease and MaxWait")]
    public async Task GetToken_SharedTokenThatCannotBeSentInAHeader_IsAMissNotAHang()
    {
        using var keys = Protector();
        var now = _time.GetUtcNow();
        _inner.Put(keys.TokenKey, keys.SealToken("not a\u0001header token", now, now + TimeSpan.FromHours(1)), TimeSpan.FromHours(1));
        var a = Instance("a");

        var first = await Probe.Outcome(a.Provider.GetTokenAsync().AsTask(), "the first caller");
        var second = await Probe.Outcome(a.Provider.GetTokenAsync().AsTask(), "a later caller");

        Assert.That((first, second), Is.EqualTo(((Exception?)null, (Exception?)null)));
    }

    [Test]
    public async Task GetToken_SharedTokenAlreadyExpiredButStillStored_IsAMiss()
    {
        using var keys = Protector();
        var now = _time.GetUtcNow();
        _inner.Put(keys.TokenKey, keys.SealToken("stale-token", now - TimeSpan.FromHours(2), now - TimeSpan.FromHours(1)), TimeSpan.FromHours(1));
        var a = Instance("a");

        var token = await a.Provider.GetTokenAsync();

        Assert.That((token.Value, a.Endpoint.RequestCount), Is.EqualTo(("a-token-1", 1)));
    }

    [Test]
    public async Task WaitForChange_CompletesAtOnceForever_WaitingInstanceDoesNotSpinOnTheStore()
    {
        using var keys = Protector();
        _inner.HoldLease(keys.LockKey, SharedTokenCoordinator.Lease);
        _store.Wait = (_, _, _) => ValueTask.CompletedTask;
        var a = Instance("a");

        var pending = a.Provider.GetTokenAsync().AsTask();
        var spun = await ReachesAsync(() => _store.Gets > 200, TimeSpan.FromSeconds(2));
        var gets = _store.Gets;

        // Let it finish: the dead instance's lease ends.
        await DriveAsync(pending, SharedTokenCoordinator.Lease + StoreBound);
        Assert.That(spun, Is.False, $"{gets} store reads while the fake clock stood still; a poll interval is {SharedTokenCoordinator.PollInterval.TotalMilliseconds} ms");
    }

    [Test]
    public async Task GetToken_StoreGrantsTheLeaseToEverybody_NoMoreRequestsThanWithoutAStore()
    {
        _store.Lease = (_, _, _, _) => ValueTask.FromResult(true);
        var fleet = new[] { Instance("a"), Instance("b"), Instance("c") };
        foreach (var h in fleet)
        {
            h.Endpoint.Hold();
        }

        var callers = fleet.SelectMany(h => Enumerable.Range(0, 32).Select(_ => Task.Run(() => h.Provider.GetTokenAsync().AsTask()))).ToArray();
        await Poll.UntilAsync(() => fleet.All(h => h.Endpoint.RequestCount == 1), "each instance's own request");
        foreach (var h in fleet)
        {
            h.Endpoint.Release();
        }

        var tokens = await Task.WhenAll(callers);
        Assert.That((tokens.Length, FleetRequests), Is.EqualTo((96, 3)), "two owners at once cost what no store costs, never more");
    }

    [Test]
    [Explicit("left as is (design): a lease never granted holds callers for SharedTokenCoordinator.MaxWait = 35 s (the back channel's 30 s timeout plus a lease), not a lease: a live owner whose gateway stalls holds its renewed lease that long, and giving up sooner would send a second request for the fleet")]
    public async Task GetToken_LeaseNeverGranted_CallerWaitsNoLongerThanALeasePlusTheStoreBound()
    {
        _store.Lease = (_, _, _, _) => ValueTask.FromResult(false);
        var a = Instance("a");

        var pending = a.Provider.GetTokenAsync().AsTask();
        var advanced = await DriveAsync(pending, SharedTokenCoordinator.Lease + StoreBound, TimeSpan.FromMilliseconds(250));
        var took = advanced ?? SharedTokenCoordinator.Lease + StoreBound + await DriveAsync(pending, SharedTokenCoordinator.MaxWait + StoreBound, TimeSpan.FromSeconds(1));

        Assert.That(advanced, Is.Not.Null, $"the caller waited {took?.TotalSeconds} s of fake time; a lease nobody renews ends after {SharedTokenCoordinator.Lease.TotalSeconds} s");
    }

    [Test]
    public async Task GetToken_LeaseNeverReleased_TheWaitingInstanceStillTakesTheSharedToken()
    {
        _store.Release = (_, _, _) => ValueTask.FromResult(false);
        var (a, b) = (Instance("a"), Instance("b"));
        a.Endpoint.Hold();
        var first = a.Provider.GetTokenAsync().AsTask();
        await a.Endpoint.WaitForRequestsAsync(1);
        var second = b.Provider.GetTokenAsync().AsTask();
        await Poll.UntilAsync(() => _inner.Waiting > 0, "b to wait for a");
        a.Endpoint.Release();
        await first;

        var advanced = await DriveAsync(second, StoreBound);

        Assert.That(advanced, Is.Not.Null, "b looks again after a poll interval");
        Assert.That(((await second).Value, FleetRequests), Is.EqualTo(("a-token-1", 1)));
    }

    // ------------------------------------------------------------------------------------------ the whole fleet at once

    [Test]
    public async Task GetToken_ColdStartOf32CallersOnEachOf3Instances_OneRequestForTheFleet()
    {
        _store.Asynchronous = true;
        var fleet = new[] { Instance("a"), Instance("b"), Instance("c") };
        foreach (var h in fleet)
        {
            h.Endpoint.Hold();
        }

        var callers = fleet.SelectMany(h => Enumerable.Range(0, 32).Select(_ => Task.Run(() => h.Provider.GetTokenAsync().AsTask()))).ToArray();
        await Poll.UntilAsync(() => FleetRequests == 1 && _inner.Waiting >= 2, "one owner, two instances waiting");
        foreach (var h in fleet)
        {
            h.Endpoint.Release();
        }

        var tokens = await Task.WhenAll(callers);
        Assert.That((tokens.Select(t => t.Value).Distinct().Count(), FleetRequests), Is.EqualTo((1, 1)));
    }

    [Test]
    public async Task RefreshAhead_EveryInstanceEntersTheWindowAtOnce_OneRefreshForTheFleet()
    {
        _store.Asynchronous = true;
        var fleet = new[] { Instance("a"), Instance("b"), Instance("c") };
        var first = await fleet[0].Provider.GetTokenAsync();
        await SharedAsync(Protector(), first.Value);
        foreach (var h in fleet.Skip(1))
        {
            await h.Provider.GetTokenAsync();
        }

        _time.Advance(TimeSpan.FromSeconds(3599) - TimeSpan.FromMinutes(4));
        var callers = fleet.SelectMany(h => Enumerable.Range(0, 32).Select(_ => Task.Run(() => h.Provider.GetTokenAsync().AsTask()))).ToArray();
        await Task.WhenAll(callers);
        await Poll.UntilAsync(() => fleet.All(h => h.Provider.GetTokenAsync().Result.Value != first.Value), "every instance to hold the refreshed token");

        Assert.That(FleetRequests, Is.EqualTo(2), "the first token and one refresh");
    }

    [Test]
    public async Task RefreshToken_401StormOf32CallersOnEachOf3Instances_OneReplacementForTheFleet()
    {
        _store.Asynchronous = true;
        var fleet = new[] { Instance("a"), Instance("b"), Instance("c") };
        var rejected = await fleet[0].Provider.GetTokenAsync();
        await SharedAsync(Protector(), rejected.Value);
        foreach (var h in fleet.Skip(1))
        {
            await h.Provider.GetTokenAsync();
        }

        var replacements = await Task.WhenAll(fleet.SelectMany(h => Enumerable.Range(0, 32).Select(_ => Task.Run(() => h.Provider.RefreshTokenAsync(rejected).AsTask()))));

        Assert.That((replacements.Select(t => t.Value).Distinct().Single() != rejected.Value, FleetRequests), Is.EqualTo((true, 2)));
    }

    [TestCase(HttpStatusCode.BadRequest, 0)]
    [TestCase(HttpStatusCode.Unauthorized, 0)]
    [TestCase(HttpStatusCode.TooManyRequests, 3)]
    [TestCase(HttpStatusCode.InternalServerError, 0)]
    [TestCase(HttpStatusCode.RequestTimeout, 0)]
    public async Task GetToken_GatewayRefusingWhileEveryInstanceCalls_FleetSendsNoMoreThanOneInstanceAlone(HttpStatusCode status, int retryAfterSeconds)
    {
        HttpResponseMessage Refuse() => Probe.Status(status, retryAfterSeconds > 0 ? TimeSpan.FromSeconds(retryAfterSeconds) : null);

        // The bound: one instance without a store, on the same schedule.
        var alone = new ProviderHarness(time: new FakeTimeProvider(_time.GetUtcNow()));
        _fleet.Add(alone);
        alone.Endpoint.Respond = (_, _) => Refuse();
        await HammerAsync([alone], alone.Time);

        var fleet = new[] { Instance("a"), Instance("b"), Instance("c") };
        foreach (var h in fleet)
        {
            h.Endpoint.Respond = (_, _) => Refuse();
        }

        await HammerAsync(fleet, _time);

        var counts = $"alone: {alone.Endpoint.RequestCount}; per instance of the fleet: {string.Join(", ", fleet.Select(h => h.Endpoint.RequestCount))}";
        TestContext.Out.WriteLine(counts);
        Assert.That(fleet.Sum(h => h.Endpoint.RequestCount), Is.LessThanOrEqualTo(alone.Endpoint.RequestCount + 1), counts);
    }

    [Test]
    public async Task RefreshAhead_GatewayReissuesTheSameToken_OneRefreshForTheFleet()
    {
        var fleet = new[] { Instance("a"), Instance("b"), Instance("c") };
        foreach (var h in fleet)
        {
            h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Token("same-token");
        }

        var first = await fleet[0].Provider.GetTokenAsync();
        await SharedAsync(Protector(), first.Value);
        foreach (var h in fleet.Skip(1))
        {
            await h.Provider.GetTokenAsync();
        }

        _time.Advance(TimeSpan.FromSeconds(3599) - TimeSpan.FromMinutes(4));
        foreach (var h in fleet)
        {
            await h.Provider.GetTokenAsync();
            await Poll.UntilAsync(() => h.Caching.Lifecycle!.State.Phase == TokenPhase.Fresh, $"{h.Endpoint.RequestCount} refresh of an instance");
        }

        Assert.That(FleetRequests, Is.EqualTo(2), $"the first token and one refresh; per instance: {string.Join(", ", fleet.Select(h => h.Endpoint.RequestCount))}");
    }

    // ------------------------------------------------------------------------------------------ clocks

    [Test]
    public async Task RefreshToken_WallClockSteppedBackByALifetime_ReplacementIsUsable()
    {
        var clock = new ProbeClock(_time);
        var a = Instance("a", clock: clock);
        var rejected = await a.Provider.GetTokenAsync();
        await SharedAsync(Protector(), rejected.Value);

        clock.Offset = -TimeSpan.FromHours(1);
        var outcome = await Probe.Outcome(a.Provider.RefreshTokenAsync(rejected).AsTask(), "the replacement");

        Assert.That(outcome, Is.Null, "without a store the same step back is absorbed by the lifecycle's clock: " + outcome?.Message);
    }

    [Test]
    public async Task RefreshToken_WallClockSteppedBackByALifetimeWithoutAStore_ReplacementIsUsable()
    {
        var clock = new ProbeClock(_time);
        var a = new ProviderHarness(null, s => s.AddSingleton<TimeProvider>(clock), time: _time);
        _fleet.Add(a);
        var rejected = await a.Provider.GetTokenAsync();

        clock.Offset = -TimeSpan.FromHours(1);
        var outcome = await Probe.Outcome(a.Provider.RefreshTokenAsync(rejected).AsTask(), "the replacement");

        Assert.That(outcome, Is.Null, "the reference behaviour the store path must keep");
    }

    [Test]
    public async Task RefreshToken_TokenAdoptedFromAnInstanceWhoseClockIsAhead_ReplacementBecomesCurrent()
    {
        var ahead = new ProbeClock(_time) { Offset = TimeSpan.FromMinutes(10) };
        var a = Instance("a", clock: ahead);
        var b = Instance("b");
        var rejected = await a.Provider.GetTokenAsync();
        await SharedAsync(Protector(), rejected.Value);
        Assert.That((await b.Provider.GetTokenAsync()).Value, Is.EqualTo(rejected.Value), "b adopts a's token");

        // The gateway revokes it a minute later; b sees the 401 and gets a replacement.
        _time.Advance(TimeSpan.FromMinutes(1));
        var replacement = await b.Provider.RefreshTokenAsync(rejected);
        var current = await b.Provider.GetTokenAsync();

        Assert.That(replacement.Value, Is.Not.EqualTo(rejected.Value));
        Assert.That(current.Value, Is.EqualTo(replacement.Value), "the next API call carries the replacement, not the revoked token");
    }

    [Test]
    public async Task Send_TokenRevokedAfterAdoptionFromAnInstanceWhoseClockIsAhead_OneUnauthorizedForTheRevocationOnly()
    {
        var ahead = new ProbeClock(_time) { Offset = TimeSpan.FromMinutes(10) };
        var a = Instance("a", clock: ahead);
        var b = Instance("b");
        var revoked = await a.Provider.GetTokenAsync();
        await SharedAsync(Protector(), revoked.Value);
        var api = new RecordingApiHandler();
        using var client = Probe.Client(b, api);
        using (await client.GetAsync("v1/ping"))
        {
        }

        api.RejectedTokens.Add(revoked.Value);
        _time.Advance(TimeSpan.FromMinutes(1));
        for (var i = 0; i < 10; i++)
        {
            using var response = await client.GetAsync("v1/ping");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var unauthorized = api.Sends.Count(s => s.Authorization == "Bearer " + revoked.Value) - 1;
        Assert.That(unauthorized, Is.EqualTo(1), $"sends with the revoked token after the revocation (10 calls; {api.Sends.Count} sends in all)");
    }

    [Test]
    public async Task GetToken_AdoptedFromAnInstanceWhoseClockIsAhead_ExpiresNoLaterThanAnOwnRequestWould()
    {
        var ahead = new ProbeClock(_time) { Offset = TimeSpan.FromMinutes(10) };
        var a = Instance("a", clock: ahead);
        var b = Instance("b");
        var shared = await a.Provider.GetTokenAsync();
        await SharedAsync(Protector(), shared.Value);

        var adopted = await b.Provider.GetTokenAsync();

        Assert.That(adopted.ExpiresAt, Is.LessThanOrEqualTo(_time.GetUtcNow() + TimeSpan.FromSeconds(3599)), "the gateway issued it for 3599 s from now");
    }

    // ------------------------------------------------------------------------------------------ credentials

    [Test]
    public async Task GetToken_PasswordGrantUsersAtRunTime_SharedPerUserAndPasswordOnly()
    {
        var (a, b) = (Instance("a"), Instance("b"));
        var cacheA = a.Services.GetRequiredService<IRapidSosTokenCache>();
        var cacheB = b.Services.GetRequiredService<IRapidSosTokenCache>();
        var user = RapidSosCredential.ForUser("client-1", ProviderHarness.Secret, "dispatcher@agency.example", "pa\"ss\\wörd");

        var first = await cacheA.GetTokenAsync(user);
        await Poll.UntilAsync(() => _inner.Snapshot().Keys.Count(k => k.EndsWith(":token", StringComparison.Ordinal)) == 1 && !_inner.Snapshot().Keys.Any(k => k.EndsWith(":lock", StringComparison.Ordinal)), "the user's token to be shared");
        var same = await cacheB.GetTokenAsync(RapidSosCredential.ForUser("client-1", ProviderHarness.Secret, "dispatcher@agency.example", "pa\"ss\\wörd"));
        var otherPassword = await cacheB.GetTokenAsync(RapidSosCredential.ForUser("client-1", ProviderHarness.Secret, "dispatcher@agency.example", "pa\"ss\\word"));
        var otherUser = await cacheB.GetTokenAsync(RapidSosCredential.ForUser("client-1", ProviderHarness.Secret, "dispatcher2@agency.example", "pa\"ss\\wörd"));
        var clientOnly = await cacheB.GetTokenAsync(new RapidSosCredential("client-1", ProviderHarness.Secret));

        Assert.Multiple(() =>
        {
            Assert.That(same.Value, Is.EqualTo(first.Value));
            Assert.That(new[] { otherPassword.Value, otherUser.Value, clientOnly.Value }, Is.Unique.And.Not.Contains(first.Value));
            Assert.That(b.Endpoint.RequestCount, Is.EqualTo(3));
        });
    }

    [Test]
    public async Task GetToken_SecretWithQuotesBackslashesAndNonAscii_SharedAcrossInstances()
    {
        const string secret = "q\"uo'te\\back\\slash-ü-日本-\u0001-:{}";
        var (a, b) = (Instance("a", o => o.ClientSecret = secret), Instance("b", o => o.ClientSecret = secret));
        var first = await a.Provider.GetTokenAsync();
        await SharedAsync(Protector(secret), first.Value);

        var second = await b.Provider.GetTokenAsync();

        Assert.That((second.Value, b.Endpoint.RequestCount), Is.EqualTo((first.Value, 0)));
    }

    [Test]
    public async Task GetToken_SecretRotatedAtRunTime_NewSecretNeverReadsTheOldTokenAndTheOldFleetKeepsIt()
    {
        var rotation = new ManualChangeTokenSource();
        var secret = ProviderHarness.Secret;
        var a = Instance("a", o => o.ClientSecret = secret, s => s.AddSingleton<IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation));
        var b = Instance("b");
        var old = await a.Provider.GetTokenAsync();
        await SharedAsync(Protector(), old.Value);

        secret = "rotated-secret";
        rotation.Change();
        var rotated = await a.Provider.GetTokenAsync();
        var stillOld = await b.Provider.GetTokenAsync();

        Assert.That((rotated.Value, stillOld.Value, a.Endpoint.RequestCount, b.Endpoint.RequestCount), Is.EqualTo(("a-token-2", old.Value, 2, 0)));
    }

    // ------------------------------------------------------------------------------------------ disposal

    [Test]
    public async Task Dispose_WhileWaitingForAnotherInstance_ItsCallersGetObjectDisposedAndTheOthersTheirToken()
    {
        var stopped = 0;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RapidSosAuthDefaults.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = _ => Interlocked.Increment(ref stopped),
        };
        ActivitySource.AddActivityListener(listener);
        var (a, b) = (Instance("a"), Instance("b"));
        a.Endpoint.Hold();
        var owner = a.Provider.GetTokenAsync().AsTask();
        await a.Endpoint.WaitForRequestsAsync(1);
        var waiter = b.Provider.GetTokenAsync().AsTask();
        await Poll.UntilAsync(() => _inner.Waiting > 0, "b to wait for a");

        b.Dispose();
        var outcome = await Probe.Outcome(waiter, "b's caller");

        // b's token request ends (its span stops) once its coordinator has let go; a's is still held.
        await Poll.UntilAsync(() => Volatile.Read(ref stopped) >= 1, "b's token request to end");
        a.Endpoint.Release();

        Assert.That(outcome, Is.InstanceOf<ObjectDisposedException>());
        Assert.That((await owner).Value, Is.EqualTo("a-token-1"));
        Assert.That(Warnings(b), Is.Zero, "shutting down is not a store outage");
    }

    [Test]
    public async Task Dispose_OwnerDisposedWhileItsRequestRuns_TheWaitingInstanceGetsATokenAndNoObjectDisposed()
    {
        // A networked store: what a disposed owner cancels is not sent, its lease is not released, and lapses.
        _store.Asynchronous = true;
        var (a, b) = (Instance("a"), Instance("b"));
        a.Endpoint.Hold();
        var owner = a.Provider.GetTokenAsync().AsTask();
        await a.Endpoint.WaitForRequestsAsync(1);
        var waiter = b.Provider.GetTokenAsync().AsTask();
        await Poll.UntilAsync(() => _inner.Waiting > 0, "b to wait for a");

        a.Dispose();
        a.Endpoint.Release();
        Assert.That(await Probe.Outcome(owner, "a's caller"), Is.InstanceOf<ObjectDisposedException>());
        var advanced = await DriveAsync(waiter, SharedTokenCoordinator.Lease + StoreBound, TimeSpan.FromMilliseconds(100));

        Assert.That(advanced, Is.Not.Null, "b takes over when a's lease ends at the latest");
        Assert.That((await waiter).Value, Does.StartWith("b-token-").Or.StartWith("a-token-"));
    }

    [Test]
    public async Task Rotation_WhileTheOwnersShareIsUnderWay_NoStoreWarning()
    {
        _store.Asynchronous = true;
        var rotation = new ManualChangeTokenSource();
        var secret = ProviderHarness.Secret;
        var a = Instance("a", o => o.ClientSecret = secret, s => s.AddSingleton<IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation));
        a.Endpoint.Hold();
        var caller = a.Provider.GetTokenAsync().AsTask();
        await a.Endpoint.WaitForRequestsAsync(1);

        secret = "rotated-secret";
        rotation.Change();
        a.Endpoint.Release();
        await caller;
        await Poll.UntilAsync(() => !_inner.Snapshot().Keys.Any(k => k.EndsWith(":lock", StringComparison.Ordinal)) || Warnings(a) > 0, "the old set's lease to be released");

        Assert.That(Warnings(a), Is.Zero, a.AllLogText);
    }

    // ------------------------------------------------------------------------------------------ telemetry and memory

    [Test]
    public async Task GetToken_LogSinkThrowsAndTheStoreMisbehavesEveryWay_CallersGetTheirTokens()
    {
        var a = Instance("a", services: s => s.AddLogging(l => l.AddProvider(new ThrowingLoggerProvider())));
        _store.Get = (_, _) => ValueTask.FromResult<byte[]?>([1, 2, 3]);
        var first = await a.Provider.GetTokenAsync();
        _store.Get = (_, _) => throw new InvalidOperationException("get");
        var second = await a.Provider.RefreshTokenAsync(first);
        _store.Get = null;
        _store.Lease = (_, _, _, _) => ValueTask.FromResult(false);
        _store.Wait = (_, _, _) => HostileSharedTokenStore.Never();
        var third = a.Provider.RefreshTokenAsync(second).AsTask();

        Assert.That(await DriveAsync(third, SharedTokenCoordinator.MaxWait + StoreBound, TimeSpan.FromSeconds(1)), Is.Not.Null);
        Assert.That(new[] { first.Value, second.Value, (await third).Value }, Is.All.Not.Empty);
    }

    [Test]
    public async Task RefreshToken_StoreHeldAnOlderTokenThroughAnOutage_ReplacementIsNeverOlderThanTheRejectedToken()
    {
        var a = Instance("a");
        var x = await a.Provider.GetTokenAsync();
        await SharedAsync(Protector(), x.Value);

        // x is rejected while the store is down: a replaces it alone, and cannot retire it from the store.
        _inner.Failing = true;
        var y = await a.Provider.RefreshTokenAsync(x);
        _inner.Failing = false;

        // Later the gateway revokes y too.
        _time.Advance(TimeSpan.FromMinutes(1));
        var replacement = await a.Provider.RefreshTokenAsync(y);

        Assert.That(y.Value, Is.EqualTo("a-token-2"));
        Assert.That(replacement.Value, Is.Not.EqualTo(x.Value), "x was rejected before y was fetched");
    }

    [Test]
    public async Task GetToken_ARefreshAheadWasRefusedWhileTheTokenIsValid_ANewInstanceTakesTheValidTokenInsteadOfFailing()
    {
        var a = Instance("a");
        var token = await a.Provider.GetTokenAsync();
        await SharedAsync(Protector(), token.Value);
        a.Endpoint.Respond = (_, _) => Probe.Status(HttpStatusCode.InternalServerError);
        _time.Advance(TimeSpan.FromSeconds(3599) - TimeSpan.FromMinutes(4));
        await a.Provider.GetTokenAsync();
        await Poll.UntilAsync(() => _inner.Snapshot().ContainsKey(Protector().RefusalKey), "a's refused refresh to be shared");

        var c = Instance("c");
        var adopted = await c.Provider.GetTokenAsync();

        Assert.That((adopted.Value, c.Endpoint.RequestCount), Is.EqualTo((token.Value, 0)));
    }

    [Test]
    public async Task GetToken_OneUsersPasswordRefused_OtherUsersOfTheSameClientAreNotRefused()
    {
        var (a, b) = (Instance("a"), Instance("b"));
        a.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"ErrorCode":"invalid_grant","Error":"Invalid user credentials"}""");
        var wrong = RapidSosCredential.ForUser("client-1", ProviderHarness.Secret, "dispatcher@agency.example", "wrong");
        Assert.That(async () => await a.Services.GetRequiredService<IRapidSosTokenCache>().GetTokenAsync(wrong), Throws.InstanceOf<RapidSosAuthenticationException>());
        await Poll.UntilAsync(() => _inner.Snapshot().Keys.Any(k => k.EndsWith(":refusal", StringComparison.Ordinal)), "the refusal to be shared");

        var other = await b.Services.GetRequiredService<IRapidSosTokenCache>().GetTokenAsync(RapidSosCredential.ForUser("client-1", ProviderHarness.Secret, "dispatcher2@agency.example", "right"));

        Assert.That((other.Value, b.Endpoint.RequestCount), Is.EqualTo(("b-token-1", 1)));
    }

    [Test]
    public async Task Remove_UserSignedOut_NextUseStartsFromNothing()
    {
        var a = Instance("a");
        var cache = a.Services.GetRequiredService<IRapidSosTokenCache>();
        var user = RapidSosCredential.ForUser("client-1", ProviderHarness.Secret, "dispatcher@agency.example", "pw");
        var before = await cache.GetTokenAsync(user);
        await Poll.UntilAsync(() => _inner.Snapshot().Keys.Any(k => k.EndsWith(":token", StringComparison.Ordinal)) && !_inner.Snapshot().Keys.Any(k => k.EndsWith(":lock", StringComparison.Ordinal)), "the user's token to be shared");

        cache.Remove(user);
        var after = await cache.GetTokenAsync(RapidSosCredential.ForUser("client-1", ProviderHarness.Secret, "dispatcher@agency.example", "pw"));

        Assert.That(after.Value, Is.Not.EqualTo(before.Value), "signed out: the old token is not handed out again");
    }

    [Test]
    public async Task RunTimeSets_10000WithAStore_EvictedAndRemovedSetsFreeTheirKeys()
    {
        // A store that keeps nothing, so what is measured is the library's own.
        _store.Get = (_, _) => ValueTask.FromResult<byte[]?>(null);
        _store.Set = (_, _, _, _) => ValueTask.CompletedTask;
        _store.Lease = (_, _, _, _) => ValueTask.FromResult(true);
        _store.Release = (_, _, _) => ValueTask.FromResult(true);
        const int Sets = 10_000;
        var a = Instance("a", o => o.MaxCredentialSets = Sets / 2);
        var cache = a.Services.GetRequiredService<IRapidSosTokenCache>();
        var agencies = Enumerable.Range(0, Sets).Select(i => new RapidSosCredential($"agency-{i}", $"secret-{i}")).ToArray();
        var keys = new List<SharedTokenProtector>(Sets);
        foreach (var agency in agencies)
        {
            await cache.GetTokenAsync(agency);
            keys.Add(agency.Slot!.Lifecycle!.Shared!.Protector);
        }

        foreach (var agency in agencies)
        {
            cache.Remove(agency);
        }

        var live = keys.Count(k =>
        {
            try
            {
                k.SealToken("t", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(1));
                return true;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        });
        Assert.That((live, a.Services.GetRequiredService<TokenLifecycleStore>().Count), Is.EqualTo((0, 0)), "every evicted or removed set's AES-GCM key is freed");
    }

    // ------------------------------------------------------------------------------------------ the synchronous path

    [Test]
    public async Task GetToken_SynchronousCallerWithAStoreThatAnswersAsynchronously_SendsOnTheCallersThread()
    {
        _store.Asynchronous = true;
        var a = Instance("a");
        var sentOn = 0;
        a.Endpoint.Respond = (n, _) =>
        {
            sentOn = Environment.CurrentManagedThreadId;
            return StubTokenEndpoint.Token($"a-token-{n}");
        };
        var callerThread = 0;

        var token = await Probe.OnThread(() =>
        {
            callerThread = Environment.CurrentManagedThreadId;
            return ((ISyncTokenProvider)a.Provider).GetToken(CancellationToken.None);
        });

        Assert.That(token.Value, Is.EqualTo("a-token-1"));
        Assert.That(sentOn, Is.EqualTo(callerThread), "sent on the synchronous caller's thread, as without a store");
    }

    // ------------------------------------------------------------------------------------------ helpers

    private ProviderHarness Instance(string name, Action<RapidSosAuthOptions>? configure = null, Action<IServiceCollection>? services = null, ProbeClock? clock = null)
    {
        var harness = new ProviderHarness(configure, s =>
        {
            s.AddSingleton<IRapidSosSharedTokenStore>(_store);
            if (clock is not null)
            {
                s.AddSingleton<TimeProvider>(clock);
            }

            services?.Invoke(s);
        }, time: _time);
        harness.Endpoint.Respond = (n, _) => StubTokenEndpoint.Token($"{name}-token-{n}");
        _fleet.Add(harness);
        return harness;
    }

    private static SharedTokenProtector Protector(string secret = ProviderHarness.Secret) =>
        new(new Uri("https://api.test.example/oauth/token"), RapidSosGrantType.ClientCredentials, "client-1", secret, null, null, null);

    private async Task SharedAsync(SharedTokenProtector keys, string token) =>
        await Poll.UntilAsync(
            () =>
            {
                var snapshot = _inner.Snapshot();
                return !snapshot.ContainsKey(keys.LockKey)
                    && snapshot.TryGetValue(keys.TokenKey, out var value)
                    && keys.TryOpenToken(value, out var shared, out _, out _)
                    && shared == token;
            },
            "the token to be shared and the lease released");

    /// <summary>
    /// Advances the fake clock in steps while <paramref name="pending"/> runs, never past <paramref name="bound"/>;
    /// the fake time it took, or <see langword="null"/> if it was still pending with the clock at the bound. A step
    /// is taken only once the library has called the store and the thread pool has had nothing queued for a few
    /// looks in a row, so the clock does not outrun work that has yet to arm its timers.
    /// </summary>
    private async Task<TimeSpan?> DriveAsync(Task pending, TimeSpan bound, TimeSpan? step = null)
    {
        var advanced = TimeSpan.Zero;
        var by = step ?? TimeSpan.FromMilliseconds(25);
        var idle = 0;
        var done = await ReachesAsync(
            () =>
            {
                idle = _store.Calls > 0 && ThreadPool.PendingWorkItemCount == 0 ? idle + 1 : 0;
                if (!pending.IsCompleted && advanced + by <= bound && idle >= 3)
                {
                    _time.Advance(by);
                    advanced += by;
                    idle = 0;
                }

                return pending.IsCompleted;
            },
            TimeSpan.FromSeconds(20));
        return done ? advanced : null;
    }

    private static async Task<bool> ReachesAsync(Func<bool> condition, TimeSpan within)
    {
        try
        {
            await Poll.UntilAsync(condition, timeout: within);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// 10 s of fake time: every 100 ms, 8 callers on every instance ask for a token (failures swallowed); the clock
    /// moves on once nothing is in flight (no request sent and unanswered, no lease held), so only the fleet's and the
    /// lifecycles' own schedules decide how many requests go out.
    /// </summary>
    private async Task HammerAsync(ProviderHarness[] fleet, FakeTimeProvider time)
    {
        var calls = new List<Task>();
        for (var step = 0; step < 100; step++)
        {
            calls.AddRange(fleet.SelectMany(h => Enumerable.Range(0, 8).Select(_ => Swallow(h.Provider.GetTokenAsync().AsTask()))));
            await Poll.UntilAsync(() => fleet.All(Quiet) && !_inner.Snapshot().Keys.Any(k => k.EndsWith(":lock", StringComparison.Ordinal)), "the fleet to be idle");
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        static bool Quiet(ProviderHarness h) =>
            h.Caching.Lifecycle?.State is not { } state || (state.Request is not { IsSent: true } && state.SideRequest is null);
    }

    private static async Task Swallow(Task call)
    {
        try
        {
            await call;
        }
        catch (RapidSosAuthenticationException)
        {
        }
    }

    private static int Warnings(ProviderHarness harness) =>
        harness.Logs.GetSnapshot().Count(r => r.Level == LogLevel.Warning && r.Message.Contains("store", StringComparison.OrdinalIgnoreCase));
}
