using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Probes;

/// <summary>
/// Issue 12's fleet rules attacked with what the fleet process tests saw (test/RapidSos.Http.Auth.StackExchangeRedis.Tests,
/// FleetProcessTests): each failed when written, and holds since the fix it names.
/// </summary>
public sealed class FleetDefectProbes
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

    /// <summary>
    /// Seen in the fleet: instances that fetched their own tokens (the store did not answer them at a cold start, or
    /// during an outage) hold tokens other than the shared one. When the gateway revokes every token, an instance
    /// answered 401 takes the shared token as its replacement because it differs from the rejected one, although it
    /// is older and revoked too; the resend is rejected, the lifecycle counts it as "the API rejects fresh tokens"
    /// and holds replacements back (1 s, 2 s...), so that instance's callers get 401s by the thousand
    /// (FleetProcessTests.Revocation_SeenByEveryInstanceAtOnce_OneTokenRequestForTheFleet: status:401=1482 in one
    /// instance of three, in 2 s).
    /// </summary>
    [Test]
    public async Task RefreshToken_SharedTokenIssuedBeforeTheRejectedOne_IsNotTakenAsItsReplacement()
    {
        var (a, b) = (Instance("a"), Instance("b"));
        var bToken = await b.Provider.GetTokenAsync();
        await SharedAsync(bToken.Value);

        // The store does not answer a, a second later: a fetches its own token.
        _time.Advance(TimeSpan.FromSeconds(1));
        _store.Failing = true;
        var aToken = await a.Provider.GetTokenAsync();
        _store.Failing = false;

        // The gateway revokes every token; a is answered 401 with its own.
        var replacement = await a.Provider.RefreshTokenAsync(aToken);

        Assert.That(replacement.Value, Is.Not.EqualTo(bToken.Value), "b's token was issued before the rejected one: whatever revoked a's token may well have revoked it");
    }

    private ProviderHarness Instance(string name)
    {
        var harness = new ProviderHarness(services: s => s.AddSingleton<IRapidSosSharedTokenStore>(_store), time: _time);
        harness.Endpoint.Respond = (n, _) => StubTokenEndpoint.Token($"{name}-token-{n}");
        _fleet.Add(harness);
        return harness;
    }

    /// <summary>What the owner writes after its callers have their token, in the background: waited for here.</summary>
    private async Task SharedAsync(string token)
    {
        using var protector = new SharedTokenProtector(new Uri("https://api.test.example/oauth/token"), RapidSosGrantType.ClientCredentials, "client-1", ProviderHarness.Secret, null, null, null);
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
}
