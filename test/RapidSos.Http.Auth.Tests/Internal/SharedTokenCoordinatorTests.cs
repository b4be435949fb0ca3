using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Internal;

/// <summary>
/// The fleet's rules, with two or three containers ("instances") sharing one in-memory store and one fake clock:
/// each instance has its own stub gateway, so a test sees which instance sent which token request.
/// </summary>
public sealed class SharedTokenCoordinatorTests
{
    private FakeTimeProvider _time = null!;
    private InMemorySharedTokenStore _store = null!;
    private readonly List<ProviderHarness> _fleet = [];

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
        _store = new InMemorySharedTokenStore(_time);
    }

    [TearDown]
    public void TearDown()
    {
        _fleet.ForEach(h => h.Dispose());
        _fleet.Clear();
    }

    private int FleetRequests => _fleet.Sum(h => h.Endpoint.RequestCount);

    private string TokenKey => Protector().TokenKey;

    [Test]
    public async Task GetToken_AnotherInstanceFetchedIt_UsesItWithoutARequestAndWithTheSameExpiry()
    {
        var (a, b) = (Instance("a"), Instance("b"));
        var first = await a.Provider.GetTokenAsync();
        await SharedAsync(first.Value);

        var second = await b.Provider.GetTokenAsync();

        Assert.Multiple(() =>
        {
            Assert.That(second.Value, Is.EqualTo(first.Value));
            Assert.That(second.ExpiresAt, Is.EqualTo(first.ExpiresAt));
            Assert.That(b.Endpoint.RequestCount, Is.EqualTo(0));
        });
    }

    [Test]
    public async Task GetToken_SynchronousCaller_TakesTheSharedTokenAndSharesItsOwn()
    {
        var (a, b, c) = (Instance("a"), Instance("b"), Instance("c"));
        var first = ((ISyncTokenProvider)a.Provider).GetToken(CancellationToken.None);
        await SharedAsync(first.Value);

        var second = ((ISyncTokenProvider)b.Provider).GetToken(CancellationToken.None);
        var third = await c.Provider.GetTokenAsync();

        Assert.That((second.Value, third.Value, FleetRequests), Is.EqualTo((first.Value, first.Value, 1)));
    }

    [Test]
    public async Task GetToken_CachedInTheProcess_CostsNoStoreCall()
    {
        var a = Instance("a");
        await a.Provider.GetTokenAsync();
        var gets = _store.Gets;

        for (var i = 0; i < 100; i++)
        {
            await a.Provider.GetTokenAsync();
        }

        Assert.That(_store.Gets, Is.EqualTo(gets));
    }

    [Test]
    public async Task GetToken_ColdStartOfTwoInstancesAtOnce_SendsOneRequestForBoth()
    {
        var (a, b) = (Instance("a"), Instance("b"));
        a.Endpoint.Hold();
        var first = a.Provider.GetTokenAsync().AsTask();
        await a.Endpoint.WaitForRequestsAsync(1);

        var second = b.Provider.GetTokenAsync().AsTask();
        await Poll.UntilAsync(() => _store.Waiting > 0, "b to wait for a's request");
        a.Endpoint.Release();

        Assert.Multiple(async () =>
        {
            Assert.That((await second).Value, Is.EqualTo((await first).Value));
            Assert.That(FleetRequests, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task RefreshAhead_OneInstanceRefreshed_TheOtherTakesTheNewTokenWithoutARequest()
    {
        var (a, b) = (Instance("a"), Instance("b"));
        var first = await a.Provider.GetTokenAsync();
        await SharedAsync(first.Value);
        await b.Provider.GetTokenAsync();

        // Into the refresh window (5 minutes before expiry) of both: a refreshes first, then b.
        _time.Advance(TimeSpan.FromSeconds(3599) - TimeSpan.FromMinutes(4));
        await a.Provider.GetTokenAsync();
        await Poll.UntilAsync(() => a.Provider.GetTokenAsync().Result.Value != first.Value, "a's refresh ahead");
        var refreshed = a.Provider.GetTokenAsync().Result.Value;
        await SharedAsync(refreshed);

        await b.Provider.GetTokenAsync();
        await Poll.UntilAsync(() => b.Provider.GetTokenAsync().Result.Value == refreshed, "b to take a's refreshed token");

        Assert.That((a.Endpoint.RequestCount, b.Endpoint.RequestCount), Is.EqualTo((2, 0)));
    }

    [Test]
    public async Task RefreshToken_EveryInstanceSeesTheSameTokenRejected_OneReplacementForTheFleet()
    {
        var fleet = new[] { Instance("a"), Instance("b"), Instance("c") };
        var rejected = await fleet[0].Provider.GetTokenAsync();
        await SharedAsync(rejected.Value);
        foreach (var instance in fleet.Skip(1))
        {
            await instance.Provider.GetTokenAsync();
        }

        var replacements = await Task.WhenAll(fleet.Select(h => h.Provider.RefreshTokenAsync(rejected).AsTask()));

        Assert.Multiple(() =>
        {
            Assert.That(replacements.Select(t => t.Value).Distinct().Count(), Is.EqualTo(1));
            Assert.That(replacements[0].Value, Is.Not.EqualTo(rejected.Value));
            Assert.That(FleetRequests, Is.EqualTo(2), "the first token and one replacement");
        });
    }

    [Test]
    public async Task RefreshToken_AnotherInstanceAlreadyReplacedIt_TakesTheReplacementAndDeletesNothing()
    {
        var (a, b) = (Instance("a"), Instance("b"));
        var rejected = await a.Provider.GetTokenAsync();
        await SharedAsync(rejected.Value);
        await b.Provider.GetTokenAsync();
        var replacement = await a.Provider.RefreshTokenAsync(rejected);
        await SharedAsync(replacement.Value);

        var seenByB = await b.Provider.RefreshTokenAsync(rejected);

        Assert.Multiple(() =>
        {
            Assert.That(seenByB.Value, Is.EqualTo(replacement.Value));
            Assert.That(_store.Snapshot().ContainsKey(TokenKey), Is.True, "the replacement stays shared");
            Assert.That(FleetRequests, Is.EqualTo(2));
        });
    }

    [Test]
    public async Task GetToken_TheGatewayRefusedAnotherInstance_FailsAtOnceWithItsErrorAndSendsNothing()
    {
        var (a, b) = (Instance("a"), Instance("b"));
        a.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"ErrorCode":"invalid_client","Error":"Client credentials are invalid"}""");
        Assert.That(async () => await a.Provider.GetTokenAsync(), Throws.InstanceOf<RapidSosAuthenticationException>());
        await Poll.UntilAsync(() => _store.Snapshot().ContainsKey(Protector().RefusalKey), "a to share the refusal");

        var failure = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await b.Provider.GetTokenAsync());

        Assert.Multiple(() =>
        {
            Assert.That(b.Endpoint.RequestCount, Is.EqualTo(0));
            Assert.That(failure!.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(failure.Message, Does.Contain("Client credentials are invalid").And.Contain("Shared by the instance of the fleet"));
            Assert.That(failure.RetryAfter, Is.GreaterThan(TimeSpan.Zero));
        });
    }

    [Test]
    public async Task GetToken_GatewayRefusingTheWholeFleet_OneRequestPerBackoffStepForAllInstances()
    {
        var fleet = new[] { Instance("a"), Instance("b"), Instance("c") };
        foreach (var instance in fleet)
        {
            instance.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.BadRequest, """{"detail":"Invalid client credentials."}""");
        }

        // 3 s of every instance asking every 100 ms: the fleet's backoff (1 s, then 2 s) allows 2 requests.
        for (var step = 0; step < 30; step++)
        {
            foreach (var instance in fleet)
            {
                try
                {
                    await instance.Provider.GetTokenAsync();
                }
                catch (RapidSosAuthenticationException)
                {
                }

                await Poll.UntilAsync(() => _store.Snapshot().Keys.All(k => !k.EndsWith(":lock", StringComparison.Ordinal)), "the lease to be released");
            }

            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.That(FleetRequests, Is.InRange(2, 3));
    }

    [Test]
    public async Task GetToken_StoreFailing_EachInstanceGoesOnAloneWithOneWarningAndCountsEveryError()
    {
        var (a, b) = (Instance("a"), Instance("b"));
        using var errors = new MetricCollector<long>(a.Services.GetRequiredService<RapidSosAuthMetrics>().SharedStoreErrors);
        _store.Failing = true;

        await a.Provider.GetTokenAsync();
        var token = await a.Provider.GetTokenAsync();
        await a.Provider.RefreshTokenAsync(token);
        await b.Provider.GetTokenAsync();

        Assert.Multiple(() =>
        {
            Assert.That((a.Endpoint.RequestCount, b.Endpoint.RequestCount), Is.EqualTo((2, 1)));
            Assert.That(Warnings(a, "did not answer"), Is.EqualTo(1), "one warning per outage, not per call");
            Assert.That(errors.GetMeasurementSnapshot().Sum(m => m.Value), Is.GreaterThanOrEqualTo(2));
        });
    }

    [Test]
    public async Task GetToken_StoreAnswersAgain_SharingResumesAndItIsLogged()
    {
        var (a, b) = (Instance("a"), Instance("b"));
        _store.Failing = true;
        var alone = await a.Provider.GetTokenAsync();
        _store.Failing = false;

        var shared = await a.Provider.RefreshTokenAsync(alone);
        await SharedAsync(shared.Value);
        var seenByB = await b.Provider.GetTokenAsync();

        Assert.Multiple(() =>
        {
            Assert.That(seenByB.Value, Is.EqualTo(shared.Value));
            Assert.That(a.Logs.GetSnapshot().Any(r => r.Message.Contains("answers again", StringComparison.Ordinal)), Is.True);
        });
    }

    [Test]
    public async Task GetToken_StoreNeverAnswers_GoesOnAloneAfterTheOperationTimeout()
    {
        var a = Instance("a");
        _store.Hanging = true;

        var pending = a.Provider.GetTokenAsync().AsTask();
        await Poll.UntilAsync(() =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(50));
            return pending.IsCompleted;
        }, "the token once the store's time is up");

        Assert.Multiple(async () =>
        {
            Assert.That((await pending).Value, Is.Not.Empty);
            Assert.That(a.Endpoint.RequestCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task GetToken_ValueInTheStoreIsNotOurs_IsAMissWithADebugLog()
    {
        var a = Instance("a");
        _store.Put(TokenKey, [1, .. new byte[100]], TimeSpan.FromMinutes(5));

        var token = await a.Provider.GetTokenAsync();

        Assert.Multiple(() =>
        {
            Assert.That(token.Value, Is.EqualTo("a-token-1"));
            Assert.That(a.Logs.GetSnapshot().Any(r => r.Level == LogLevel.Debug && r.Message.Contains("not one this instance can open", StringComparison.Ordinal)), Is.True);
        });
    }

    [Test]
    public async Task GetToken_LeaseHeldByAnInstanceThatDied_TakesOverWhenTheLeaseEnds()
    {
        var a = Instance("a");
        _store.HoldLease(Protector().LockKey, SharedTokenCoordinator.Lease);

        var pending = a.Provider.GetTokenAsync().AsTask();
        await Poll.UntilAsync(() =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            return pending.IsCompleted;
        }, "a to take over the lease of the dead instance");

        Assert.Multiple(async () =>
        {
            Assert.That((await pending).Value, Is.EqualTo("a-token-1"));
            Assert.That(a.Endpoint.RequestCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task GetToken_StoresWaitThrows_GoesOnAloneAtOnce()
    {
        var a = Instance("a");
        _store.HoldLease(Protector().LockKey, TimeSpan.FromHours(1));
        _store.WaitThrows = true;

        var token = await a.Provider.GetTokenAsync();

        Assert.That((token.Value, a.Endpoint.RequestCount), Is.EqualTo(("a-token-1", 1)));
    }

    [Test]
    public async Task GetToken_StoresWaitNeverEnds_StillTakesOverWhenTheLeaseEnds()
    {
        var a = Instance("a");
        _store.HoldLease(Protector().LockKey, SharedTokenCoordinator.Lease);
        _store.WaitNeverEnds = true;

        var pending = a.Provider.GetTokenAsync().AsTask();
        await Poll.UntilAsync(() =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            return pending.IsCompleted;
        }, "a to stop waiting on a wait that never ends");

        Assert.That((await pending).Value, Is.EqualTo("a-token-1"));
    }

    [Test]
    public async Task GetToken_AnotherSecret_NeitherReadsNorReplacesTheOthersToken()
    {
        var a = Instance("a");
        var rotated = Instance("b", o => o.ClientSecret = "rotated-secret");
        var first = await a.Provider.GetTokenAsync();
        await SharedAsync(first.Value);

        var other = await rotated.Provider.GetTokenAsync();

        Assert.That(other.Value, Is.EqualTo("b-token-1"));
        await Poll.UntilAsync(() => _store.Snapshot().Keys.Count(k => k.EndsWith(":token", StringComparison.Ordinal)) == 2, "two credential sets, two keys");
    }

    [Test]
    public async Task Store_AfterSharingRefusingAndReplacing_HoldsNoSpellingOfTheSecretTheTokensOrTheClientId()
    {
        var (a, b) = (Instance("a"), Instance("b"));
        var first = await a.Provider.GetTokenAsync();
        await SharedAsync(first.Value);
        await b.Provider.GetTokenAsync();
        var second = await b.Provider.RefreshTokenAsync(first);
        await SharedAsync(second.Value);
        b.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.BadRequest, $$"""{"detail":"bad secret {{ProviderHarness.Secret}}"}""");
        Assert.That(async () => await b.Provider.RefreshTokenAsync(second), Throws.Exception);
        await Poll.UntilAsync(() => _store.Snapshot().ContainsKey(Protector().RefusalKey), "the refusal to be shared");

        var written = _store.Written.ToArray();
        Assert.That(written, Is.Not.Empty);
        foreach (var (key, value) in written)
        {
            foreach (var secret in new[] { ProviderHarness.Secret, first.Value, second.Value, "client-1" })
            {
                Assert.That(Spellings.FindIn(System.Text.Encoding.UTF8.GetBytes(key), secret), Is.Null, $"{secret} in a key");
                Assert.That(Spellings.FindIn(value, secret), Is.Null, $"{secret} in a value");
            }
        }
    }

    private ProviderHarness Instance(string name, Action<RapidSosAuthOptions>? configure = null)
    {
        var harness = new ProviderHarness(configure, s => s.AddSingleton<IRapidSosSharedTokenStore>(_store), time: _time);
        harness.Endpoint.Respond = (n, _) => StubTokenEndpoint.Token($"{name}-token-{n}");
        _fleet.Add(harness);
        return harness;
    }

    private static SharedTokenProtector Protector() =>
        new(new Uri("https://api.test.example/oauth/token"), RapidSosGrantType.ClientCredentials, "client-1", ProviderHarness.Secret, null, null, null);

    /// <summary>What the owner writes after its callers have their token, in the background: waited for here.</summary>
    private async Task SharedAsync(string token)
    {
        using var protector = Protector();
        await Poll.UntilAsync(
            () =>
            {
                var snapshot = _store.Snapshot();
                return !snapshot.ContainsKey(protector.LockKey)
                    && snapshot.TryGetValue(protector.TokenKey, out var value)
                    && protector.TryOpenToken(value, out var shared, out _, out _)
                    && shared == token;
            },
            "the token to be shared and the lease released");
    }

    private static int Warnings(ProviderHarness harness, string text) =>
        harness.Logs.GetSnapshot().Count(r => r.Level == LogLevel.Warning && r.Message.Contains(text, StringComparison.Ordinal));
}
