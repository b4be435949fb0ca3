using System.Net;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Internal;

/// <summary>Run-time credentials: chosen per request, cached per credential set, bounded, removable.</summary>
public class CredentialSetsTests
{
    private static readonly RapidSosCredential AgencyA = new("agency-a", "secret-a");
    private static readonly RapidSosCredential AgencyB = new("agency-b", "secret-b");

    private static (ProviderHarness Harness, RecordingApiHandler Api, HttpClient Client) Start(
        Action<RapidSosAuthOptions>? configure = null, Action<IServiceCollection>? services = null) => CredentialHarness.Start(configure, services);

    private static HttpRequestMessage Get(RapidSosCredential? credential = null) => CredentialHarness.Get(credential);

    private static string? TokenOf(string? authorization) => CredentialHarness.TokenOf(authorization);

    [Test]
    public async Task Send_CredentialOnTheRequest_WinsOverTheResolverAndTheRegistrationsOwn()
    {
        var (h, api, client) = Start(services: s => s.AddRapidSosCredentialResolver<FixedResolver>());
        using var _ = h;

        using (await client.SendAsync(Get(AgencyA)))
        {
        }

        using (await client.SendAsync(Get()))
        {
        }

        Assert.That(api.Sends.Select(s => TokenOf(s.Authorization)), Is.EqualTo(new[] { "agency-a.1", "agency-b.2" }), "the request's own, then the resolver's");
    }

    [Test]
    public async Task Send_ResolvedCredentialRejected_TheResolverChoosesAgainForTheResendAndItsSetIsRefreshedOnce()
    {
        var (h, api, client) = Start(services: s => s.AddSingleton<CountingResolver>().AddRapidSosCredentialResolver<CountingResolver>());
        using var _ = h;
        using (await client.SendAsync(Get()))
        {
        }

        api.RejectedTokens.Add("agency-b.1");
        using var response = await client.SendAsync(Get());

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(api.Sends.Select(s => TokenOf(s.Authorization)), Is.EqualTo(new[] { "agency-b.1", "agency-b.1", "agency-b.2" }));
        Assert.That(CountingResolver.Calls, Is.EqualTo(3), "once per send, the resend included");
    }

    [Test]
    public async Task Send_WithoutACredentialOnceOthersHaveCarriedOne_DoesNotCreateTheRequestsOptions()
    {
        var (h, _, client) = Start();
        using var __ = h;
        using (await client.SendAsync(Get(AgencyA)))
        {
        }

        using var plain = Get();
        using var response = await client.SendAsync(plain);

        var options = typeof(HttpRequestMessage).GetField("_options", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        Assert.That(options.GetValue(plain), Is.Null, "reading Options would allocate a bag on every such request");
    }

    [Test]
    public async Task Send_ResolverReturnsNull_UsesTheRegistrationsOwnCredentials()
    {
        var (h, api, client) = Start(services: s => s.AddRapidSosCredentialResolver<NullResolver>());
        using var _ = h;

        using var response = await client.SendAsync(Get());

        Assert.That(TokenOf(api.Sends.Single().Authorization), Is.EqualTo("client-1.1"));
    }

    [Test]
    public void Send_NoCredentialAnywhere_FailsNamingBothWaysAndSendsNothing()
    {
        var (h, api, client) = Start(o => { o.ClientId = null; o.ClientSecret = null; });
        using var _ = h;

        var ex = Assert.ThrowsAsync<InvalidOperationException>(() => client.SendAsync(Get()));
        var sync = Assert.Throws<InvalidOperationException>(() => client.Send(Get()));

        Assert.That(ex!.Message, Does.Contain("WithRapidSosCredential").And.Contain("IRapidSosCredentialResolver"));
        Assert.That(sync!.Message, Is.EqualTo(ex.Message));
        Assert.That(api.Sends, Is.Empty);
        Assert.That(h.Endpoint.RequestCount, Is.Zero);
    }

    [Test]
    public async Task Send_RegistrationWithoutCredentialsOfItsOwn_WorksWithRequestCredentials()
    {
        var (h, api, client) = Start(o => { o.ClientId = null; o.ClientSecret = null; });
        using var _ = h;

        using var response = await client.SendAsync(Get(AgencyA));
        using var syncResponse = client.Send(Get(AgencyB));

        Assert.That(api.Sends.Select(s => TokenOf(s.Authorization)), Is.EqualTo(new[] { "agency-a.1", "agency-b.2" }));
    }

    [Test]
    public async Task ColdStampede_FiftyAgenciesTwentyCallersEach_OneTokenRequestPerAgencyAndEachRequestCarriesItsOwn()
    {
        var (h, api, client) = Start();
        using var _ = h;
        var agencies = Enumerable.Range(0, 50).Select(i => new RapidSosCredential($"agency-{i}", $"secret-{i}")).ToArray();
        h.Endpoint.Hold();

        var calls = agencies.SelectMany(a => Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            using var request = Get(a);
            request.Headers.Add("X-Agency", a.ClientId);
            using var response = await client.SendAsync(request);
            return (a.ClientId, Token: TokenOf(request.Headers.Authorization?.ToString()));
        }))).ToArray();
        await h.Endpoint.WaitForRequestsAsync(50);
        h.Endpoint.Release();
        var results = await Task.WhenAll(calls);

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(50));
        Assert.That(results, Has.All.Matches<(string ClientId, string? Token)>(r => r.Token!.StartsWith(r.ClientId + ".", StringComparison.Ordinal)), "never another agency's token");
        Assert.That(api.Sends, Has.Count.EqualTo(1000));
    }

    [Test]
    public async Task GetTokenAsync_EqualCredentialsInTwoInstances_ShareOneToken()
    {
        using var h = new ProviderHarness();
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();

        var first = await cache.GetTokenAsync(new RapidSosCredential("agency-a", "secret-a"));
        var second = await cache.GetTokenAsync(new RapidSosCredential("agency-a", "secret-a"));
        var otherSecret = await cache.GetTokenAsync(new RapidSosCredential("agency-a", "rotated"));
        var otherScope = await cache.GetTokenAsync(new RapidSosCredential("agency-a", "secret-a") { Scope = "alerts" });

        Assert.That(second, Is.SameAs(first));
        Assert.That(otherSecret, Is.Not.SameAs(first));
        Assert.That(otherScope, Is.Not.SameAs(first));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3));
    }

    [Test]
    public async Task GetTokenAsync_SameCredentialsAsTheRegistrationsOwn_HaveTheirOwnLifecycle()
    {
        // Shared, the lifecycle would keep the settings and telemetry of whichever came first (a reviewer found the
        // registration's own token requests losing their client id tag, and a reloaded client authentication ignored).
        using var h = new ProviderHarness();
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();

        var own = await h.Provider.GetTokenAsync();
        var runTime = await cache.GetTokenAsync(new RapidSosCredential("client-1", ProviderHarness.Secret));

        Assert.That(runTime, Is.Not.SameAs(own));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));
    }

    [Test]
    public async Task GetTokenAsync_SameRunTimeCredentialsOnTwoRegistrations_ShareOneToken()
    {
        using var h = new ProviderHarness(services: s => ProviderHarness.AddSameCredentials(s, "second"));
        var first = await h.Services.GetRequiredService<IRapidSosTokenCache>().GetTokenAsync(AgencyA);
        var second = await h.Services.GetRequiredKeyedService<IRapidSosTokenCache>("second").GetTokenAsync(AgencyA);

        Assert.That(second, Is.SameAs(first));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Remove_ThroughOneRegistration_DropsTheCredentialFromEveryRegistration()
    {
        using var h = new ProviderHarness(services: s => ProviderHarness.AddSameCredentials(s, "second"));
        var store = h.Services.GetRequiredService<TokenLifecycleStore>();
        var user = RapidSosCredential.ForUser("agency-a", "secret-a", "dispatcher-7", "pw");
        await h.Services.GetRequiredService<IRapidSosTokenCache>().GetTokenAsync(user);
        await h.Services.GetRequiredKeyedService<IRapidSosTokenCache>("second").GetTokenAsync(user);

        h.Services.GetRequiredService<IRapidSosTokenCache>().Remove(user);

        Assert.That(store.Count, Is.Zero, "no lifecycle (and so no copy of the password) is left");
    }

    [Test]
    public async Task WithScope_PasswordGrant_IsAnotherSetWithTheScopeSent()
    {
        using var h = new ProviderHarness();
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var user = RapidSosCredential.ForUser("agency-a", "secret-a", "dispatcher-7", "pw");

        await cache.GetTokenAsync(user);
        await cache.GetTokenAsync(user.WithScope("alerts"));

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));
        Assert.That(h.Endpoint.Requests.Last().Form["scope"], Is.EqualTo("alerts"));
        Assert.That(h.Endpoint.Requests.Last().Form["username"], Is.EqualTo("dispatcher-7"));
    }

    [Test]
    public async Task MaxCredentialSets_Exceeded_DropsTheLeastRecentlyUsed()
    {
        using var h = new ProviderHarness(o => o.MaxCredentialSets = 2);
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var sets = h.Services.GetRequiredKeyedService<CredentialSets>(string.Empty);
        var c = new RapidSosCredential("agency-c", "secret-c");

        await cache.GetTokenAsync(AgencyA);
        await cache.GetTokenAsync(AgencyB);
        h.Time.Advance(TimeSpan.FromSeconds(1)); // A's next use is the more recent one.
        await cache.GetTokenAsync(AgencyA);
        await cache.GetTokenAsync(c);
        var before = h.Endpoint.RequestCount;
        await cache.GetTokenAsync(AgencyA);
        var afterA = h.Endpoint.RequestCount;
        await cache.GetTokenAsync(AgencyB);

        Assert.That(sets.Count, Is.EqualTo(2));
        Assert.That(afterA, Is.EqualTo(before), "A was used recently and kept its token");
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(before + 1), "B was dropped and fetched again");
    }

    [Test]
    public async Task MaxCredentialSets_UnderConcurrentChurn_NeverExceeded()
    {
        using var h = new ProviderHarness(o => o.MaxCredentialSets = 8);
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var sets = h.Services.GetRequiredKeyedService<CredentialSets>(string.Empty);
        var store = h.Services.GetRequiredService<TokenLifecycleStore>();
        var credentials = Enumerable.Range(0, 64).Select(i => new RapidSosCredential($"agency-{i}", $"secret-{i}")).ToArray();
        var largest = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                await cache.GetTokenAsync(credentials[(i * 7 + worker * 13) % credentials.Length]);
                var count = sets.Count;
                InterlockedMax(ref largest, count);
            }
        })));

        Assert.That(largest, Is.LessThanOrEqualTo(8));
        Assert.That(store.Count, Is.LessThanOrEqualTo(8), "dropped sets let go of their lifecycles");
    }

    [Test]
    public async Task RunTimeSets_InAnApplicationsSizeLimitedMemoryCache_TakeNoneOfItsBudget()
    {
        using var h = new ProviderHarness(services: s => s.AddMemoryCache(o => o.SizeLimit = 10));
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        for (var i = 0; i < 50; i++)
        {
            await cache.GetTokenAsync(new RapidSosCredential($"agency-{i}", "secret"));
        }

        h.Cache.Set("the application's own", "entry", new MemoryCacheEntryOptions { Size = 9 });

        Assert.That(h.Cache.TryGetValue("the application's own", out _), Is.True, "its budget is still its own");
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(50));
    }

    [Test]
    public async Task Remove_DropsTheTokenAndTheLifecycleAtOnce()
    {
        using var h = new ProviderHarness();
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var store = h.Services.GetRequiredService<TokenLifecycleStore>();
        var user = RapidSosCredential.ForUser("agency-a", "secret-a", "dispatcher-7", "pw");
        var before = await cache.GetTokenAsync(user);
        var live = store.Count;

        cache.Remove(user);

        Assert.That(store.Count, Is.EqualTo(live - 1));
        Assert.That(user.Slot, Is.Null);
        Assert.That(await cache.GetTokenAsync(user), Is.Not.SameAs(before), "signed in again: a new token");
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));
    }

    [Test]
    public async Task PasswordGrant_PostsTheUsersFieldsToTheV2Endpoint()
    {
        using var h = new ProviderHarness();
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();

        await cache.GetTokenAsync(RapidSosCredential.ForUser("agency-a", "secret-a", "dispatcher-7", "p@ss w+rd"));

        var request = h.Endpoint.Requests.Single();
        Assert.That(request.Uri.AbsolutePath, Is.EqualTo("/oauth/v2/token"));
        Assert.That(request.Form, Is.EquivalentTo(new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["client_id"] = "agency-a",
            ["client_secret"] = "secret-a",
            ["username"] = "dispatcher-7",
            ["password"] = "p@ss w+rd",
        }));
    }

    [Test]
    public async Task OneAgencyRefused_OtherAgenciesAreNeverSlowed()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (n, request) => request.Content!.ReadAsStringAsync().Result.Contains("agency-a", StringComparison.Ordinal)
            ? StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"ErrorCode":"invalid_client","Error":"Client credentials are invalid"}""")
            : StubTokenEndpoint.Token($"token-{n}");
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();

        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await cache.GetTokenAsync(AgencyA));
        var refusedAgain = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await cache.GetTokenAsync(AgencyA));
        var other = await cache.GetTokenAsync(AgencyB);

        Assert.That(refusedAgain!.RetryAfter, Is.Not.Null, "agency A is in its refusal backoff");
        Assert.That(other.Value, Is.EqualTo("token-2"), "agency B asked at once");
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));
    }

    [Test]
    public async Task Unauthorized_OneReplacementPerRejectedTokenOfThatAgencyOnly()
    {
        var (h, api, client) = Start();
        using var _ = h;
        using (await client.SendAsync(Get(AgencyA)))
        {
        }

        using (await client.SendAsync(Get(AgencyB)))
        {
        }

        api.RejectedTokens.Add("agency-a.1");
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.SendAsync(Get(AgencyA))));

        Assert.That(responses.Select(r => r.StatusCode), Has.All.EqualTo(HttpStatusCode.OK));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3), "one replacement for agency A; B untouched");
        Assert.That(TokenOf(api.Sends.Last().Authorization), Is.EqualTo("agency-a.3"));
    }

    [Test]
    public async Task IdleCredentialSet_IsNeverRefreshedInTheBackground()
    {
        using var h = new ProviderHarness();
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        await cache.GetTokenAsync(AgencyA);

        for (var minute = 0; minute < 180; minute++)
        {
            h.Time.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1), "nobody used it: no request was made for it");
    }

    [Test]
    public async Task UsedCredentialSet_IsRefreshedAheadOfExpiry()
    {
        using var h = new ProviderHarness();
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var first = await cache.GetTokenAsync(AgencyA);
        h.Time.Advance(TimeSpan.FromSeconds(3599 - 299));

        Assert.That((await cache.GetTokenAsync(AgencyA)).Value, Is.EqualTo(first.Value), "served the valid token while the refresh runs");
        await h.Endpoint.WaitForRequestsAsync(2);
        await Poll.UntilAsync(() => cache.GetTokenAsync(AgencyA).Result.Value == "token-2", "the refreshed token is served");
    }

    [Test]
    public async Task Metrics_RunTimeCredentials_AreTaggedByRegistrationNotClientId()
    {
        using var h = new ProviderHarness();
        var collector = new MetricCollector<long>(h.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RapidSosAuthDefaults.MeterName, "rapidsos.auth.token_requests");
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();

        await h.Provider.GetTokenAsync();
        await Poll.UntilAsync(() => collector.GetMeasurementSnapshot().Count == 1, "the first token request's measurement (recorded after its waiters are released)");
        await cache.GetTokenAsync(AgencyA);
        await Poll.UntilAsync(() => collector.GetMeasurementSnapshot().Count == 2, "the second token request's measurement");

        var tags = collector.GetMeasurementSnapshot().Select(m => m.Tags).ToList();
        Assert.That(tags, Has.Count.EqualTo(2));
        Assert.That(tags[0]["rapidsos.client_id"], Is.EqualTo("client-1"));
        Assert.That(tags[1].ContainsKey("rapidsos.client_id"), Is.False);
        Assert.That(tags[1]["rapidsos.registration"], Is.EqualTo("(default)"));
    }

    [Test]
    public async Task Logs_NameTheClientAndUserNeverTheSecretOrPassword()
    {
        using var h = new ProviderHarness();
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();

        await cache.GetTokenAsync(RapidSosCredential.ForUser("agency-a", "Zz9-secret", "dispatcher-7", "Zz9-password"));
        await Poll.UntilAsync(() => h.AllLogText.Contains("dispatcher-7", StringComparison.Ordinal), "the token-acquired log (written after the waiters are released)");

        Assert.That(h.AllLogText, Does.Contain("agency-a").And.Contain("dispatcher-7"));
        Assert.That(h.AllLogText, Does.Not.Contain("Zz9"));
    }

    [Test]
    public async Task OptionsChange_NewTokenEndpoint_DropsEverySetAndTheNextUseFetchesFromTheNewOne()
    {
        var endpoint = "https://api.test.example/";
        var rotation = new ManualChangeTokenSource();
        using var h = new ProviderHarness(o => o.BaseAddress = new Uri(endpoint), s => s.AddSingleton<Microsoft.Extensions.Options.IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation));
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        await cache.GetTokenAsync(AgencyA);

        endpoint = "https://edx.test.example/";
        rotation.Change();
        await cache.GetTokenAsync(AgencyA);

        Assert.That(h.Endpoint.Requests.Select(r => r.Uri.Host), Is.EqualTo(new[] { "api.test.example", "edx.test.example" }));
    }

    [Test]
    public async Task HealthCheck_RegistrationWithOnlyRunTimeCredentials_IsHealthyAndSaysWhy()
    {
        using var h = new ProviderHarness(o => { o.ClientId = null; o.ClientSecret = null; }, s => s.AddHealthChecks().AddRapidSosTokenCheck());

        var report = await h.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        Assert.That(report.Status, Is.EqualTo(HealthStatus.Healthy));
        Assert.That(report.Entries.Single().Value.Description, Does.Contain("no credentials of its own"));
        Assert.That(h.Endpoint.RequestCount, Is.Zero);
    }

    [Test]
    public async Task AcquireTokenOnStart_RegistrationWithOnlyRunTimeCredentials_StartsWithoutARequest()
    {
        using var h = new ProviderHarness(o => { o.ClientId = null; o.ClientSecret = null; o.AcquireTokenOnStart = true; });

        foreach (var service in h.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>())
        {
            await service.StartAsync(CancellationToken.None);
        }

        Assert.That(h.Endpoint.RequestCount, Is.Zero);
    }

    [Test]
    public void Credential_ToStringAndValidation_NeverShowTheSecret()
    {
        var user = RapidSosCredential.ForUser("agency-a", "Zz9-secret", "dispatcher-7", "Zz9-password");

        Assert.That(user.ToString(), Is.EqualTo("RapidSosCredential { ClientId = agency-a, Username = dispatcher-7 }"));
        Assert.That(new RapidSosCredential("a", "Zz9") { Scope = "alerts" }.ToString(), Is.EqualTo("RapidSosCredential { ClientId = a, Scope = alerts }"));
        Assert.Throws<ArgumentException>(() => _ = new RapidSosCredential(" ", "s"));
        Assert.Throws<ArgumentException>(() => _ = new RapidSosCredential("a\r\nb", "s"));
        Assert.Throws<ArgumentNullException>(() => _ = new RapidSosCredential("a", null!));
        Assert.Throws<ArgumentException>(() => RapidSosCredential.ForUser("a", "s", "u", ""));
        Assert.Throws<ArgumentException>(() => _ = new RapidSosCredential("a", "s") { Scope = "x\ny" });
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private sealed class FixedResolver : IRapidSosCredentialResolver
    {
        public ValueTask<RapidSosCredential?> ResolveAsync(HttpRequestMessage request, CancellationToken cancellationToken) => new(AgencyB);
    }

    private sealed class CountingResolver : IRapidSosCredentialResolver
    {
        public static int Calls;

        public CountingResolver() => Calls = 0;

        public ValueTask<RapidSosCredential?> ResolveAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return new(AgencyB);
        }
    }

    private sealed class NullResolver : IRapidSosCredentialResolver
    {
        public ValueTask<RapidSosCredential?> ResolveAsync(HttpRequestMessage request, CancellationToken cancellationToken) => new((RapidSosCredential?)null);
    }
}
