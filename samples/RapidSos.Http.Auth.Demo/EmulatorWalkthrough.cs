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

            // 4. Revoked token: 401 -> refresh -> resend, invisible to callers.
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

        // 3. Cold cache burst.
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

        public ValueTask DisposeAsync() => _services.DisposeAsync();
    }
}
