using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Demo;

/// <summary>
/// Walks through what the package promises against the gateway emulator on a loopback port, checking each
/// promise as it goes. Returns the number of steps that did not behave.
/// </summary>
internal static class EmulatorWalkthrough
{
    private sealed record Outcome(string Step, string Expected, string Observed, bool Passed);

    public static async Task<int> RunAsync()
    {
        var outcomes = new List<Outcome>();
        var total = Stopwatch.StartNew();
        await using var gateway = await RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions
        {
            TokenLatency = TimeSpan.FromMilliseconds(50),
        });

        Out.Title("RapidSos.Http.Auth demo");
        Out.Info($"RapidSOS gateway emulator on {gateway.BaseAddress} (token endpoint {gateway.TokenEndpoint}, 50 ms token latency)");
        Console.WriteLine();

        // 1. The first call acquires a token.
        await using (var app = App.Create(gateway))
        {
            Out.Step(1, "First call: the handler fetches a token, then sends the request with it");
            var status = await app.Client.PingAsync();
            var token = await app.Tokens.GetTokenAsync();
            Out.Info($"GET /v1/ping -> {(int)status} {status}");
            Out.Info($"token acquired for client '{App.ClientId}', expires at {token.ExpiresAt:HH:mm:ss} UTC (in {token.ExpiresAt - DateTimeOffset.UtcNow:mm\\:ss}); the token itself is never printed");
            outcomes.Add(Check("first call", "200 and 1 token request", $"{(int)status} and {gateway.TokenRequestCount} token request(s)",
                status == HttpStatusCode.OK && gateway.TokenRequestCount == 1));

            // 2. Many calls, one token.
            Out.Step(2, "100 more calls reuse the cached token");
            var before = gateway.TokenRequestCount;
            var ok = 0;
            for (var i = 0; i < 100; i++)
            {
                ok += await app.Client.PingAsync() == HttpStatusCode.OK ? 1 : 0;
            }

            var extra = gateway.TokenRequestCount - before;
            Out.Info($"{ok}/100 succeeded, {extra} new token request(s)");
            outcomes.Add(Check("100 cached calls", "100 OK, 0 token requests", $"{ok} OK, {extra} token requests", ok == 100 && extra == 0));

            // 3. Revoked token: 401 -> refresh -> resend, invisible to callers.
            Out.Step(3, "The gateway revokes the token: 401, one refresh, the request is resent and callers never notice");
            gateway.RevokeAllTokens();
            before = gateway.TokenRequestCount;
            var unauthorizedBefore = gateway.UnauthorizedCount;
            var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => app.Client.SendAlertAsync($$"""{"alert":"fall detected","n":{{i}}}""")));
            var intact = results.Select((r, i) => r.Status == HttpStatusCode.OK && r.Echo.Contains($"\"n\":{i}}}", StringComparison.Ordinal)).Count(x => x);
            var refreshes = gateway.TokenRequestCount - before;
            var gateway401 = gateway.UnauthorizedCount - unauthorizedBefore;
            Out.Info($"50 concurrent POSTs: gateway answered {gateway401} x 401, {refreshes} token request(s), callers got {intact}/50 OK with their body intact");
            outcomes.Add(Check("revoked token", "50 OK, 1 refresh", $"{intact} OK, {refreshes} refresh(es), {gateway401} hidden 401s",
                intact == 50 && refreshes == 1 && gateway401 >= 1));
        }

        // 4. Cold cache burst.
        Out.Step(4, "A burst of 1,000 concurrent calls on a cold cache");
        await using (var app = App.Create(gateway))
        {
            var before = gateway.TokenRequestCount;
            var sw = Stopwatch.StartNew();
            var statuses = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => Task.Run(() => app.Client.PingAsync())));
            var ok = statuses.Count(s => s == HttpStatusCode.OK);
            var requests = gateway.TokenRequestCount - before;
            Out.Info($"{ok}/1000 succeeded in {sw.ElapsedMilliseconds} ms with {requests} token request(s)");
            outcomes.Add(Check("cold burst", "1000 OK, 1 token request", $"{ok} OK, {requests} token request(s)", ok == 1000 && requests == 1));
        }

        // 5. Token endpoint outage during refresh ahead.
        Out.Step(5, "Short-lived tokens (6 s) and a token endpoint outage exactly when the refresh is due");
        gateway.TokenLifetime = TimeSpan.FromSeconds(6);
        await using (var app = App.Create(gateway))
        {
            await app.Client.PingAsync();
            var before = gateway.TokenRequestCount;
            gateway.EnqueueFault(EmulatorFault.Html(503));
            gateway.EnqueueFault(EmulatorFault.ConnectionReset());
            int calls = 0, failures = 0;
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(7.5))
            {
                try
                {
                    calls++;
                    if (await app.Client.PingAsync() != HttpStatusCode.OK)
                    {
                        failures++;
                    }
                }
                catch (HttpRequestException)
                {
                    failures++;
                }

                await Task.Delay(20);
            }

            var attempts = gateway.TokenRequestCount - before;
            Out.Info($"{calls} calls over 7.5 s across the old token's expiry: {failures} failed; {attempts} token requests in the background (2 hit the outage)");
            outcomes.Add(Check("outage during refresh", "0 caller failures", $"{failures} failures in {calls} calls, {attempts} background attempts",
                failures == 0 && attempts >= 3));
        }

        gateway.TokenLifetime = TimeSpan.FromHours(1);

        // 6. Bad credentials.
        Out.Step(6, "Bad credentials give a clear error, and no API request is sent");
        await using (var app = App.Create(gateway, secret: "not-the-secret"))
        {
            var apiBefore = gateway.ApiRequestCount;
            try
            {
                await app.Client.PingAsync();
                outcomes.Add(Check("bad credentials", "RapidSosAuthenticationException", "the call succeeded", false));
            }
            catch (RapidSosAuthenticationException ex)
            {
                Out.Info($"RapidSosAuthenticationException: {ex.Message}");
                var sent = gateway.ApiRequestCount - apiBefore;
                outcomes.Add(Check("bad credentials", "401 with the gateway's message", $"{(int?)ex.StatusCode} \"{ex.Detail}\", {sent} API requests",
                    ex.StatusCode == HttpStatusCode.Unauthorized && ex.Detail is not null && sent == 0 && !ex.Message.Contains("not-the-secret", StringComparison.Ordinal)));
            }
        }

        // 7. Many agencies: credentials chosen per request by a resolver.
        Out.Step(7, "Three agencies, one service: a resolver picks each request's credentials; one agency's secret is revoked mid-run");
        string[] agencies = ["county-911", "city-psap", "state-patrol"];
        foreach (var agency in agencies)
        {
            gateway.AddClient(agency, $"{agency}-secret");
        }

        await using (var app = App.CreateForAgencies(gateway))
        {
            gateway.ResetRecords();
            var first = await Task.WhenAll(agencies.SelectMany(a => Enumerable.Repeat(a, 10)).Select(a => app.Agencies.PingAsync(a)));
            var ownToken = gateway.Requests.Where(r => r.IsApiRequest).Count(r => r.TokenClientId == r.Headers["X-Agency"]);
            Out.Info($"30 calls for 3 agencies: {first.Count(s => s == HttpStatusCode.OK)} OK, {gateway.TokenRequestCount} token requests, {ownToken}/30 carried their own agency's token");

            gateway.RemoveClient("city-psap");
            var before = gateway.TokenRequestCount;
            var cityFailed = 0;
            try
            {
                await app.Agencies.PingAsync("city-psap");
            }
            catch (RapidSosAuthenticationException ex)
            {
                cityFailed++;
                Out.Info($"city-psap after its secret was revoked: {(int?)ex.StatusCode} \"{ex.Detail}\"");
            }

            var others = await Task.WhenAll(new[] { "county-911", "state-patrol" }.SelectMany(a => Enumerable.Repeat(a, 10)).Select(a => app.Agencies.PingAsync(a)));
            var otherTokenRequests = gateway.TokenRequests.Skip(before).Count(r => r.ClientId != "city-psap");
            Out.Info($"the other two agencies: {others.Count(s => s == HttpStatusCode.OK)}/20 OK, {otherTokenRequests} new token requests");
            outcomes.Add(Check("many agencies", "30 OK, 3 token requests, own tokens; revoked agency alone fails",
                $"{first.Count(s => s == HttpStatusCode.OK)} OK, {before} token requests, {ownToken}/30 own tokens, revoked fails: {cityFailed == 1}, others {others.Count(s => s == HttpStatusCode.OK)}/20",
                first.All(s => s == HttpStatusCode.OK) && before == 3 && ownToken == 30 && cityFailed == 1 && others.All(s => s == HttpStatusCode.OK) && otherTokenRequests == 0));

            // 8. A signed-in user's own password-grant token, dropped at sign-out.
            Out.Step(8, "A telecommunicator signs in (password grant), works, and signs out");
            gateway.AddUser("county-911", "dispatcher-7", "correct horse");
            var user = RapidSosCredential.ForUser("county-911", "county-911-secret", "dispatcher-7", "correct horse");
            var status = await app.Agencies.PingAsUserAsync(user);
            var signedIn = gateway.Requests.Last(r => r.IsApiRequest).TokenUsername;
            app.TokenCache.Remove(user);
            var userRequests = gateway.TokenRequests.Count(r => r.TokenUsername == "dispatcher-7");
            await app.Agencies.PingAsUserAsync(user);
            var afterSignIn = gateway.TokenRequests.Count(r => r.TokenUsername == "dispatcher-7");
            Out.Info($"as {user}: {(int)status} {status}, the API saw a token of '{signedIn}'; after sign-out the next sign-in fetched a new token ({afterSignIn - userRequests} request)");
            outcomes.Add(Check("sign-out", "the user's own token; a new one after sign-out", $"{(int)status}, token of '{signedIn}', {afterSignIn - userRequests} new request after sign-out",
                status == HttpStatusCode.OK && signedIn == "dispatcher-7" && userRequests == 1 && afterSignIn == 2));
        }

        // 9. A fleet: three instances share one token through Redis (only with a redis-server on the PATH).
        Out.Step(9, "Three instances of the service start at once and share one token through Redis");
        if (await FleetStep.RunAsync(gateway, App.ClientId, "emulator-secret") is { } fleet)
        {
            outcomes.Add(Check("fleet", "30 OK, 1 token request for 3 instances", fleet.Observed, fleet.Passed));
        }

        Console.WriteLine();
        PrintSummary(outcomes, total.Elapsed);
        return outcomes.Count(o => !o.Passed);
    }

    private static Outcome Check(string step, string expected, string observed, bool passed)
    {
        if (passed)
        {
            Out.Pass(observed);
        }
        else
        {
            Out.Fail($"{observed} (expected {expected})");
        }

        return new Outcome(step, expected, observed, passed);
    }

    private static void PrintSummary(List<Outcome> outcomes, TimeSpan elapsed)
    {
        var stepWidth = Math.Max(4, outcomes.Max(o => o.Step.Length));
        var expectedWidth = Math.Max(8, outcomes.Max(o => o.Expected.Length));
        Out.Title("Summary");
        Console.WriteLine($"  {"step".PadRight(stepWidth)}  {"expected".PadRight(expectedWidth)}  result");
        foreach (var o in outcomes)
        {
            Console.WriteLine($"  {o.Step.PadRight(stepWidth)}  {o.Expected.PadRight(expectedWidth)}  {(o.Passed ? Out.Paint("PASS", "32") : Out.Paint("FAIL", "31"))}");
        }

        var failed = outcomes.Count(o => !o.Passed);
        Console.WriteLine();
        Console.WriteLine(failed == 0
            ? Out.Paint($"All {outcomes.Count} steps behaved as promised ({elapsed.TotalSeconds:0.0} s).", "32")
            : Out.Paint($"{failed} of {outcomes.Count} steps did not behave as promised.", "31"));
    }

    /// <summary>An application wired the way users wire it, against the emulator.</summary>
    private sealed class App : IAsyncDisposable
    {
        public const string ClientId = "emulator-client";

        private readonly ServiceProvider _services;

        private App(ServiceProvider services) => _services = services;

        public EmergencyDataClient Client => _services.GetRequiredService<EmergencyDataClient>();

        public ITokenProvider Tokens => _services.GetRequiredService<ITokenProvider>();

        public static App Create(RapidSosGatewayEmulator gateway, string secret = "emulator-secret")
        {
            var services = new ServiceCollection();
            services.AddRapidSosAuthentication(o =>
            {
                o.BaseAddress = gateway.BaseAddress;
                o.ClientId = ClientId;
                o.ClientSecret = secret;
            });
            services.AddHttpClient<EmergencyDataClient>(c => c.BaseAddress = gateway.BaseAddress)
                .AddHttpMessageHandler<BearerTokenHandler>();
            return new App(services.BuildServiceProvider());
        }

        public AgencyClient Agencies => _services.GetRequiredService<AgencyClient>();

        public IRapidSosTokenCache TokenCache => _services.GetRequiredService<IRapidSosTokenCache>();

        /// <summary>A vendor's service: no credentials of its own, a resolver that looks each agency up.</summary>
        public static App CreateForAgencies(RapidSosGatewayEmulator gateway)
        {
            var services = new ServiceCollection();
            services.AddRapidSosAuthentication(o => o.BaseAddress = gateway.BaseAddress);
            services.AddRapidSosCredentialResolver<AgencyResolver>();
            services.AddHttpClient<AgencyClient>().AddRapidSosBearerToken();
            return new App(services.BuildServiceProvider());
        }

        public ValueTask DisposeAsync() => _services.DisposeAsync();
    }

    /// <summary>Reads the agency from the request and returns its credentials, built once per agency (a vault or a database in real life).</summary>
    private sealed class AgencyResolver : IRapidSosCredentialResolver
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RapidSosCredential> _byAgency = new();

        public ValueTask<RapidSosCredential?> ResolveAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            request.Headers.TryGetValues("X-Agency", out var values) && values.FirstOrDefault() is { } agency
                ? new(_byAgency.GetOrAdd(agency, static a => new RapidSosCredential(a, $"{a}-secret")))
                : default;
    }

    /// <summary>A typed client that says which agency each call is for.</summary>
    private sealed class AgencyClient(HttpClient http)
    {
        public async Task<HttpStatusCode> PingAsync(string agency)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "v1/ping");
            request.Headers.Add("X-Agency", agency);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        public async Task<HttpStatusCode> PingAsUserAsync(RapidSosCredential user)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "v1/ping").WithRapidSosCredential(user);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }
    }
}
