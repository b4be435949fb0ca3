using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Probes;

/// <summary>
/// An outside review's attacks on per-request credentials (issue 11) that held when written: races of Remove and
/// eviction with requests in flight, churn far beyond the bound, resolvers that misbehave, secrets echoed by the
/// gateway, idle hours, memory after Remove and the static-only hot path. Kept as regression guards.
/// </summary>
[CancelAfter(30_000)]
[NonParallelizable]
public class CredentialProbes
{
    private static readonly RapidSosCredential AgencyA = new("agency-a", "secret-a");
    private static readonly RapidSosCredential AgencyB = new("agency-b", "secret-b");

    [Test]
    public async Task Remove_WhileItsTokenRequestIsInFlight_WaitersGetTheirOwnTokenAndNoLifecycleIsLeft()
    {
        var (h, api, client) = CredentialHarness.Start(o => { o.ClientId = null; o.ClientSecret = null; });
        using var _ = h;
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var store = h.Services.GetRequiredService<TokenLifecycleStore>();
        var user = RapidSosCredential.ForUser("agency-a", "secret-a", "dispatcher-7", "pw-7");
        h.Endpoint.Hold();

        // Started on this thread: each call has joined the one token request by the time it returns its task.
        var waiting = Enumerable.Range(0, 20).Select(_ => CredentialProbeKit.SendAsync(client, user)).ToArray();
        await h.Endpoint.WaitForRequestsAsync(1);
        cache.Remove(user);
        h.Endpoint.Release();
        var outcomes = await Task.WhenAll(waiting.Select(t => t.ContinueWith(c => c, TaskScheduler.Default)));

        // Every waiter had joined the request before Remove: each gets its own user's token, none another's, none an error.
        Assert.That(outcomes.Select(o => o.IsCompletedSuccessfully ? o.Result : o.Exception!.InnerException!.GetType().Name), Has.All.EqualTo("agency-a.dispatcher-7.1"));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
        Assert.That(store.Count, Is.Zero, "Remove let go of the lifecycle");

        var again = await CredentialProbeKit.SendAsync(client, user);
        Assert.That(again, Is.EqualTo("agency-a.dispatcher-7.2"), "the next use starts from nothing");
    }

    [Test]
    public async Task Churn_ThirtyTwoWorkersFarBeyondTheBoundWithRemoves_BoundHoldsEveryRequestCarriesItsOwnTokenNoLeak()
    {
        var (h, api, client) = CredentialHarness.Start(o => o.MaxCredentialSets = 8);
        using var _ = h;
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var sets = h.Services.GetRequiredKeyedService<CredentialSets>(string.Empty);
        var store = h.Services.GetRequiredService<TokenLifecycleStore>();
        var agencies = Enumerable.Range(0, 400).Select(i => new RapidSosCredential($"agency-{i}", $"secret-{i}")).ToArray();
        var largest = 0;
        var wrong = new ConcurrentQueue<string>();
        var failures = new ConcurrentQueue<Exception>();

        await Task.WhenAll(Enumerable.Range(0, 32).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < 150; i++)
            {
                var agency = agencies[(i * 31 + worker * 17) % agencies.Length];
                try
                {
                    if (i % 25 == 24)
                    {
                        cache.Remove(agency);
                    }

                    var token = await CredentialProbeKit.SendAsync(client, agency);
                    if (!token.StartsWith(agency.ClientId + ".", StringComparison.Ordinal))
                    {
                        wrong.Enqueue($"{agency.ClientId} got {token}");
                    }
                }
                catch (Exception ex)
                {
                    failures.Enqueue(ex);
                }

                CredentialProbeKit.InterlockedMax(ref largest, sets.Count);
            }
        })));

        Assert.That(wrong, Is.Empty, "never another agency's token");
        Assert.That(failures.Select(f => f.GetType()), Has.All.EqualTo(typeof(ObjectDisposedException)), "only a request caught by a Remove of its own credentials fails");
        Assert.That(largest, Is.LessThanOrEqualTo(8));
        Assert.That(store.Count, Is.EqualTo(sets.Count), "every lifecycle belongs to a held set");
    }

    [Test]
    public async Task OptionsReload_MaxLoweredAndTokenEndpointMovedDuringChurn_BoundAndOwnershipHold()
    {
        var max = 64;
        var host = "https://api.test.example/";
        var rotation = new ManualChangeTokenSource();
        var (h, api, client) = CredentialHarness.Start(
            o => { o.MaxCredentialSets = max; o.TokenEndpoint = new Uri(host + "oauth/token"); },
            s => s.AddSingleton<IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation));
        using var _ = h;
        var sets = h.Services.GetRequiredKeyedService<CredentialSets>(string.Empty);
        var store = h.Services.GetRequiredService<TokenLifecycleStore>();
        var agencies = Enumerable.Range(0, 100).Select(i => new RapidSosCredential($"agency-{i}", $"secret-{i}")).ToArray();
        var wrong = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();

        var workers = Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested || i < 50; i++)
            {
                var agency = agencies[(i * 7 + worker * 13) % agencies.Length];
                var token = await CredentialProbeKit.SendAsync(client, agency);
                if (!token.StartsWith(agency.ClientId + ".", StringComparison.Ordinal))
                {
                    wrong.Enqueue($"{agency.ClientId} got {token}");
                }
            }
        })).ToArray();
        await Poll.UntilAsync(() => sets.Count > 10, "churn under way");
        (max, host) = (2, "https://edx.test.example/");
        rotation.Change();
        await stop.CancelAsync();
        await Task.WhenAll(workers);
        var afterwards = await CredentialProbeKit.SendAsync(client, new RapidSosCredential("agency-late", "secret-late"));

        Assert.That(wrong, Is.Empty);
        Assert.That(afterwards, Does.StartWith("agency-late."));
        Assert.That(sets.Count, Is.LessThanOrEqualTo(2));
        Assert.That(store.Count, Is.EqualTo(sets.Count));
        var last = h.Endpoint.Requests.Last();
        Assert.That(last.Uri.Host, Is.EqualTo("edx.test.example"));
    }

    [Test]
    public async Task SameInstance_AlternatingBetweenTwoRegistrations_OneSharedTokenAndEachRegistrationHoldsItsSet()
    {
        var apiB = new RecordingApiHandler();
        var (h, api, client) = CredentialHarness.Start(services: s =>
        {
            ProviderHarness.AddSameCredentials(s, "b");
            s.AddHttpClient("api-b", c => c.BaseAddress = new Uri("https://api.test.example/")).AddRapidSosBearerToken("b").ConfigurePrimaryHttpMessageHandler(() => apiB);
        });
        using var _ = h;
        var other = h.Services.GetRequiredService<IHttpClientFactory>().CreateClient("api-b");
        var tokens = new List<string>();

        for (var i = 0; i < 10; i++)
        {
            tokens.Add(await CredentialProbeKit.SendAsync(i % 2 == 0 ? client : other, AgencyA));
        }

        Assert.That(tokens, Has.All.EqualTo("agency-a.1"));
        Assert.That(api.Sends.Count + apiB.Sends.Count, Is.EqualTo(10));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
        Assert.That(h.Services.GetRequiredKeyedService<CredentialSets>(string.Empty).Count, Is.EqualTo(1));
        Assert.That(h.Services.GetRequiredKeyedService<CredentialSets>("b").Count, Is.EqualTo(1));
    }

    [Test]
    public async Task EqualCredentialsWithDifferentScopes_ColdStampede_OneTokenRequestPerScopeEachCarryingItsScope()
    {
        var (h, api, client) = CredentialHarness.Start();
        using var _ = h;
        var alerts = new RapidSosCredential("agency-a", "secret-a") { Scope = "alerts" };
        var location = new RapidSosCredential("agency-a", "secret-a") { Scope = "location" };
        var none = new RapidSosCredential("agency-a", "secret-a") { Scope = "" };
        h.Endpoint.Hold();

        var calls = new[] { alerts, location, none }.SelectMany(c => Enumerable.Repeat(c, 30))
            .Select(c => Task.Run(async () => (c.Scope, Token: await CredentialProbeKit.SendAsync(client, c)))).ToArray();
        await h.Endpoint.WaitForRequestsAsync(3);
        h.Endpoint.Release();
        var results = await Task.WhenAll(calls);

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3));
        Assert.That(h.Endpoint.Requests.Select(r => r.Form.GetValueOrDefault("scope")), Is.EquivalentTo(new[] { "alerts", "location", null }));
        Assert.That(results, Has.All.Matches<(string? Scope, string Token)>(r => r.Scope is null ? !r.Token.Contains('[', StringComparison.Ordinal) : r.Token.EndsWith($"[{r.Scope}]", StringComparison.Ordinal)));
        Assert.That(results.Select(r => r.Token).Distinct().Count(), Is.EqualTo(3));
    }

    [Test]
    public async Task CredentialEqualToTheRegistrationsOwn_Removed_StaticRegistrationKeepsItsTokenAndWorks()
    {
        var (h, api, client) = CredentialHarness.Start();
        using var _ = h;
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var store = h.Services.GetRequiredService<TokenLifecycleStore>();
        var equal = new RapidSosCredential("client-1", ProviderHarness.Secret);
        var own = await h.Provider.GetTokenAsync();
        await cache.GetTokenAsync(equal);

        cache.Remove(equal);
        var ownAfter = await h.Provider.GetTokenAsync();
        using var response = await client.GetAsync("v1/ping");

        Assert.That(ownAfter, Is.SameAs(own));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(CredentialHarness.TokenOf(api.Sends.Single().Authorization), Is.EqualTo(own.Value));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2), "the run-time set had a lifecycle of its own");
        Assert.That(store.Count, Is.EqualTo(1));
    }

    [Test]
    public void UnauthorizedOnTheSynchronousPath_RequestCredential_OneReplacementForThatAgencyOnly()
    {
        var (h, api, client) = CredentialHarness.Start();
        using var _ = h;
        using (client.Send(CredentialHarness.Get(AgencyB)))
        {
        }

        api.RejectedTokens.Add("agency-a.2");
        using var response = client.Send(CredentialHarness.Get(AgencyA));
        using var other = client.Send(CredentialHarness.Get(AgencyB));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(api.Sends.Select(s => CredentialHarness.TokenOf(s.Authorization)), Is.EqualTo(new[] { "agency-b.1", "agency-a.2", "agency-a.3", "agency-b.1" }));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3));
        Assert.That(h.Endpoint.SynchronousSends, Is.EqualTo(3), "no sync-over-async on the 401 path");
    }

    [TestCase(ResolverBehaviour.Throws)]
    [TestCase(ResolverBehaviour.Faulted)]
    [TestCase(ResolverBehaviour.FaultedLater)]
    public void Resolver_Fails_ItsExceptionReachesTheCallerOnBothPathsAndNothingIsSent(ResolverBehaviour behaviour)
    {
        var (h, api, client) = CredentialHarness.Start(services: s => s.AddKeyedSingleton<IRapidSosCredentialResolver>(string.Empty, new ProbeResolver(behaviour)));
        using var _ = h;

        var async = Assert.ThrowsAsync<InvalidTimeZoneException>(() => client.SendAsync(CredentialHarness.Get()));
        var sync = Assert.Throws<InvalidTimeZoneException>(() => client.Send(CredentialHarness.Get()));

        Assert.That(async!.Message, Is.EqualTo("resolver failed"));
        Assert.That(sync!.Message, Is.EqualTo("resolver failed"));
        Assert.That(api.Sends, Is.Empty);
        Assert.That(h.Endpoint.RequestCount, Is.Zero);
    }

    [Test]
    public async Task Resolver_SlowAndDifferentOnEveryCall_EachRequestCarriesTheTokenOfWhatWasResolvedForIt()
    {
        var resolver = new ProbeResolver(ResolverBehaviour.RotatesSlowly);
        var (h, api, client) = CredentialHarness.Start(o => { o.ClientId = null; o.ClientSecret = null; },
            s => s.AddKeyedSingleton<IRapidSosCredentialResolver>(string.Empty, resolver));
        using var _ = h;

        var asyncResults = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => Task.Run(async () =>
        {
            using var request = CredentialHarness.Get();
            using var response = await client.SendAsync(request);
            return (Resolved: (string)request.Options.First(o => o.Key == ProbeResolver.ResolvedKey).Value!, Token: CredentialHarness.TokenOf(request.Headers.Authorization?.ToString())!);
        })));
        using var syncRequest = CredentialHarness.Get();
        using (client.Send(syncRequest))
        {
        }

        Assert.That(asyncResults, Has.All.Matches<(string Resolved, string Token)>(r => r.Token.StartsWith(r.Resolved + ".", StringComparison.Ordinal)));
        var syncResolved = (string)syncRequest.Options.First(o => o.Key == ProbeResolver.ResolvedKey).Value!;
        Assert.That(CredentialHarness.TokenOf(syncRequest.Headers.Authorization?.ToString()), Does.StartWith(syncResolved + "."));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(3), "one token request per distinct credential set");
    }

    [Test]
    public void Resolver_RegisteredForANameThatDoesNotExist_CredentialLessRequestStillFailsBeforeSending()
    {
        var (h, api, client) = CredentialHarness.Start(o => { o.ClientId = null; o.ClientSecret = null; },
            s => s.AddRapidSosCredentialResolver<AgencyBResolver>("no-such-registration"));
        using var _ = h;

        var ex = Assert.ThrowsAsync<InvalidOperationException>(() => client.SendAsync(CredentialHarness.Get()));

        Assert.That(ex!.Message, Does.Contain("WithRapidSosCredential").And.Contain(nameof(IRapidSosCredentialResolver)));
        Assert.That(api.Sends, Is.Empty);
        Assert.That(h.Endpoint.RequestCount, Is.Zero);
    }

    [Test]
    public void HandlerBuiltByHand_RequestCarriesACredential_FailsOnBothPathsWithoutSendingOrFetching()
    {
        var provider = new Moq.Mock<ITokenProvider>(Moq.MockBehavior.Strict);
        var api = new RecordingApiHandler();
        using var client = new HttpClient(new BearerTokenHandler(provider.Object, new RapidSosAuthOptions { BaseAddress = new Uri("https://api.test.example/") }) { InnerHandler = api })
        {
            BaseAddress = new Uri("https://api.test.example/"),
        };

        var async = Assert.ThrowsAsync<InvalidOperationException>(() => client.SendAsync(CredentialHarness.Get(AgencyA)));
        var sync = Assert.Throws<InvalidOperationException>(() => client.Send(CredentialHarness.Get(AgencyA)));

        Assert.That(async!.Message, Does.Contain("WithRapidSosCredential").And.Contain("built by hand"));
        Assert.That(sync!.Message, Is.EqualTo(async.Message));
        Assert.That(api.Sends, Is.Empty);
    }

    [TestCase(RapidSosClientAuthentication.FormFields)]
    [TestCase(RapidSosClientAuthentication.BasicHeader)]
    public async Task GatewayEchoesARunTimeSecret_EverySpelling_NoExceptionLogOrActivityShowsIt(RapidSosClientAuthentication authentication)
    {
        const string SecretCore = "Qx7SecretCore9";
        const string PasswordCore = "Pw4PasswordCore8";
        var secret = "\"\\/ü🚑 +%&=" + SecretCore + "ö\\\"<&>'";
        var password = "\\u00fc\"" + PasswordCore + "é 🚑/";
        var user = RapidSosCredential.ForUser("agency-a", secret, "dispatcher-7", password);
        var (h, api, client) = CredentialHarness.Start(o => o.ClientAuthentication = authentication);
        using var _ = h;
        var activities = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == RapidSosAuthDefaults.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var spellings = CredentialProbeKit.Spellings(secret).Concat(CredentialProbeKit.Spellings(password)).ToArray();
        var texts = new List<string>();
        var basicValues = new ConcurrentQueue<string>();

        foreach (var (contentType, body) in spellings)
        {
            h.Endpoint.Respond = (_, request) =>
            {
                if (request.Headers.Authorization?.Parameter is { } basic)
                {
                    basicValues.Enqueue(basic);
                }

                var echoed = body.Replace("{basic}", request.Headers.Authorization?.Parameter ?? string.Empty, StringComparison.Ordinal);
                return new HttpResponseMessage(HttpStatusCode.Unauthorized) { Content = new StringContent(echoed, Encoding.UTF8, contentType) };
            };
            h.Time.Advance(TimeSpan.FromMinutes(10));
            var ex = Assert.ThrowsAsync<RapidSosAuthenticationException>(() => client.SendAsync(CredentialHarness.Get(user)));
            texts.Add(ex!.Message);
            texts.Add(ex.ToString());
            texts.Add(ex.Detail ?? string.Empty);
        }

        texts.AddRange(h.Logs.GetSnapshot().SelectMany(r => new[] { r.Message, r.Exception?.ToString() ?? string.Empty }
            .Concat(r.StructuredState?.Select(kv => kv.Key + "=" + kv.Value) ?? [])));
        texts.AddRange(activities.SelectMany(a => a.TagObjects.Select(t => t.Key + "=" + t.Value).Append(a.StatusDescription ?? string.Empty)));
        var everything = string.Join("\n", texts);

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(spellings.Length), "every spelling met a token request of its own");
        Assert.That(everything, Does.Contain("agency-a"), "the sinks were searched");
        Assert.That(everything, Does.Not.Contain(SecretCore).And.Not.Contain(PasswordCore));
        foreach (var basic in basicValues.Distinct())
        {
            Assert.That(everything, Does.Not.Contain(basic));
        }
    }

    [Test]
    public async Task ToString_OfEveryPublicTypeAndTheCacheKey_ShowsNoSecretPasswordOrToken()
    {
        var (h, api, client) = CredentialHarness.Start();
        using var _ = h;
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var user = RapidSosCredential.ForUser("agency-a", "Zz9-secret", "dispatcher-7", "Zz9-password");
        var token = await cache.GetTokenAsync(user);
        var options = new RapidSosAuthOptions { ClientId = "c", ClientSecret = "Zz9-secret", Username = "u", Password = "Zz9-password" };
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"error":"invalid_client"}""");
        var failure = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await cache.GetTokenAsync(new RapidSosCredential("agency-x", "Zz9-secret")));
        var key = TokenRequestSettings.ForCredential(string.Empty, RegistrationEndpoints.From(new RapidSosAuthOptions()), user).Key;

        var shown = new object[] { user, new RapidSosCredential("a", "Zz9-secret") { Scope = "alerts" }, token, options, failure!, cache, h.Provider, key }
            .Select(o => o.ToString() ?? string.Empty).ToArray();

        Assert.That(shown, Has.None.Contains("Zz9"));
        Assert.That(shown, Has.None.Contains(token.Value));
    }

    [Test]
    public async Task NobodyCallsForAnHour_NoTokenRequestMeanwhile_ThenABurstCostsOneRequestPerAgency()
    {
        var (h, api, client) = CredentialHarness.Start(o => { o.ClientId = null; o.ClientSecret = null; });
        using var _ = h;
        var agencies = Enumerable.Range(0, 10).Select(i => new RapidSosCredential($"agency-{i}", $"secret-{i}")).ToArray();
        foreach (var agency in agencies)
        {
            await CredentialProbeKit.SendAsync(client, agency);
        }

        for (var minute = 0; minute < 61; minute++)
        {
            h.Time.Advance(TimeSpan.FromMinutes(1));
        }

        await Task.Yield();
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(10), "an idle set is never refreshed");
        h.Endpoint.Hold();
        var burst = agencies.SelectMany(a => Enumerable.Repeat(a, 25)).Select(a => Task.Run(async () => (a.ClientId, Token: await CredentialProbeKit.SendAsync(client, a)))).ToArray();
        await h.Endpoint.WaitForRequestsAsync(20);
        h.Endpoint.Release();
        var results = await Task.WhenAll(burst);

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(20));
        Assert.That(results, Has.All.Matches<(string ClientId, string Token)>(r => r.Token.StartsWith(r.ClientId + ".", StringComparison.Ordinal)));
        Assert.That(results.Select(r => r.Token).Distinct().Count(), Is.EqualTo(10));
    }

    [Test]
    public void Remove_OneOfTwoEqualInstances_TheRemovedInstanceAndTheLifecycleBecomeUnreachable()
    {
        using var h = new ProviderHarness();
        var cache = h.Services.GetRequiredService<IRapidSosTokenCache>();
        var survivor = new RapidSosCredential("agency-a", "secret-" + "a");
        var (credential, lifecycle, settings) = UseAndRemoveEqualInstance(h, cache, survivor);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.That(credential.IsAlive, Is.False, "the removed instance (and its copy of the secret) is not reachable from the library");
        Assert.That(lifecycle.IsAlive, Is.False);
        Assert.That(settings.IsAlive, Is.False, "the settings that hold the secret are gone");
        Assert.That(((MemoryCache)h.Cache).Count, Is.Zero);
        GC.KeepAlive(survivor);
    }

    [Test]
    public async Task StaticOnlyRegistration_CachedToken_AllocatesNoMoreThanAHandlerThatOnlySetsTheHeader()
    {
        using var h = new ProviderHarness();
        var token = await h.Provider.GetTokenAsync();
        var fromContainer = RapidSosBearerTokenHttpClientBuilderExtensions.CreateHandler(h.Services, string.Empty);
        var headerOnly = new HeaderOnlyHandler(new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token.Value));
        var used = typeof(RequestCredential).GetField("s_used", BindingFlags.NonPublic | BindingFlags.Static)!;
        var wasUsed = (bool)used.GetValue(null)!;
        try
        {
            used.SetValue(null, false); // As in a process that never called WithRapidSosCredential.
            var container = AllocatedPerRequest(fromContainer);
            var header = AllocatedPerRequest(headerOnly);

            Assert.That(container, Is.EqualTo(header), $"the container's handler allocates {container} bytes per request, one that only sets the header {header}");
        }
        finally
        {
            used.SetValue(null, wasUsed);
        }

        Assert.That(token.Value, Is.EqualTo("token-1"));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference Credential, WeakReference Lifecycle, WeakReference Settings) UseAndRemoveEqualInstance(ProviderHarness h, IRapidSosTokenCache cache, RapidSosCredential survivor)
    {
        var removed = new RapidSosCredential("agency-a", "secret-" + "a");
        cache.GetTokenAsync(removed).AsTask().GetAwaiter().GetResult();
        cache.GetTokenAsync(survivor).AsTask().GetAwaiter().GetResult();
        var lifecycle = removed.Slot!.Lifecycle!;
        var weak = (new WeakReference(removed), new WeakReference(lifecycle), new WeakReference(lifecycle.Settings));
        cache.Remove(removed);
        return weak;
    }

    private static long AllocatedPerRequest(DelegatingHandler handler)
    {
        var terminal = new CompletedHandler();
        handler.InnerHandler = terminal;
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        var requests = Enumerable.Range(0, 101).Select(_ =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "https://api.test.example/v1/ping");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "placeholder");

            // Parsed as the transport parses it anyway (Uri caches its parts on first read): the measure is the handler's own.
            GC.KeepAlive(request.RequestUri!.Host + request.RequestUri.Port);
            return request;
        }).ToArray();
        invoker.SendAsync(requests[0], CancellationToken.None).GetAwaiter().GetResult();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 1; i < requests.Length; i++)
        {
            _ = invoker.SendAsync(requests[i], CancellationToken.None);
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before) / (requests.Length - 1);
    }

    public enum ResolverBehaviour
    {
        Throws,
        Faulted,
        FaultedLater,
        RotatesSlowly,
    }

    private sealed class HeaderOnlyHandler(System.Net.Http.Headers.AuthenticationHeaderValue header) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = header;
            return base.SendAsync(request, cancellationToken);
        }
    }

    private sealed class CompletedHandler : HttpMessageHandler
    {
        private readonly Task<HttpResponseMessage> _ok = Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) => _ok;
    }

    private sealed class AgencyBResolver : IRapidSosCredentialResolver
    {
        public ValueTask<RapidSosCredential?> ResolveAsync(HttpRequestMessage request, CancellationToken cancellationToken) => new(AgencyB);
    }

    private sealed class ProbeResolver(ResolverBehaviour behaviour) : IRapidSosCredentialResolver
    {
        public static readonly string ResolvedKey = "probe.resolved";
        private static readonly RapidSosCredential[] s_rotation = [AgencyA, AgencyB, new("agency-c", "secret-c")];
        private int _calls;

        public ValueTask<RapidSosCredential?> ResolveAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            switch (behaviour)
            {
                case ResolverBehaviour.Throws:
                    throw new InvalidTimeZoneException("resolver failed");
                case ResolverBehaviour.Faulted:
                    return ValueTask.FromException<RapidSosCredential?>(new InvalidTimeZoneException("resolver failed"));
                case ResolverBehaviour.FaultedLater:
                    return new(Task.Run<RapidSosCredential?>(async () =>
                    {
                        await Task.Yield();
                        throw new InvalidTimeZoneException("resolver failed");
                    }));
                default:
                    var credential = s_rotation[Interlocked.Increment(ref _calls) % s_rotation.Length];
                    request.Options.Set(new HttpRequestOptionsKey<string>(ResolvedKey), credential.ClientId);
                    return new(Task.Run<RapidSosCredential?>(async () =>
                    {
                        await Task.Yield();
                        return credential;
                    }));
            }
        }
    }
}

/// <summary>What the credential probes share: the harness with a named-token endpoint and an API client.</summary>
internal static class CredentialProbeKit
{
    /// <summary>Tokens that name the client, the user and the scope they were issued for, so a probe can tell whose token a request carried.</summary>
    /// <summary>Sends one request with <paramref name="credential"/> and returns the token it carried.</summary>
    public static async Task<string> SendAsync(HttpClient client, RapidSosCredential credential)
    {
        using var request = CredentialHarness.Get(credential);
        using var response = await client.SendAsync(request);
        return CredentialHarness.TokenOf(request.Headers.Authorization?.ToString())!;
    }

    /// <summary>Gateway error bodies echoing <paramref name="value"/> in the spellings a gateway may use; "{basic}" is replaced by the Basic value it received.</summary>
    public static IEnumerable<(string ContentType, string Body)> Spellings(string value)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(value);
        var relaxed = System.Text.Json.JsonSerializer.Serialize(value, new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        yield return ("application/json", $$"""{"error":"invalid_client","error_description":"bad secret {{json[1..^1]}}"}""");
        yield return ("application/json", $$"""{"detail":"bad secret {{relaxed[1..^1]}} and {basic}"}""");
        yield return ("application/json", $$$"""{"fault":{"faultstring":"bad {{{Uri.EscapeDataString(value)}}}"}}""");
        yield return ("application/json", $$"""{"ErrorCode":"x","Error":"bad {{System.Net.WebUtility.UrlEncode(value)}}"}""");
        yield return ("text/html", $"<html><head><title>bad {System.Net.WebUtility.HtmlEncode(value)}</title></head></html>");
        yield return ("text/plain", $"The secret {value} is not valid.");
    }

    public static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
