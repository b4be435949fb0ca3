using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests;

/// <summary>
/// Runs the library through its scenarios (success, cache, refresh ahead, failed refresh, 401 retry, every
/// error shape, network failure, password grant) with every log captured at Trace level, then searches all
/// captured text for the client secret, the password and every token the gateway issued.
/// </summary>
public class SecretHygieneTests
{
    [Test]
    public async Task AllScenarios_LogsExceptionsAndToStrings_NeverContainSecretPasswordOrToken()
    {
        var issued = new ConcurrentBag<string>();
        var captured = new List<string>();
        using var telemetry = new TelemetryCapture();
        using var h = new ProviderHarness(o =>
        {
            o.GrantType = RapidSosGrantType.Password;
            o.Username = "dispatcher@psap.example";
            o.Password = ProviderHarness.UserPassword;
        });
        var responses = new Queue<Func<HttpResponseMessage>>();
        h.Endpoint.Respond = (n, _) =>
        {
            if (responses.TryDequeue(out var next))
            {
                return next();
            }

            var token = $"zqx{Guid.NewGuid():N}";
            issued.Add(token);
            return StubTokenEndpoint.Token(token);
        };
        var api = new RecordingApiHandler();
        var handler = new BearerTokenHandler(h.Provider, h.Options.Get(""), h.Services.GetRequiredService<ILogger<BearerTokenHandler>>()) { InnerHandler = api };
        using var client = new HttpClient(handler) { BaseAddress = new Uri("https://api.test.example/") };

        async Task Capture(Func<Task> scenario)
        {
            try
            {
                await scenario();
            }
            catch (Exception ex)
            {
                captured.Add(ex.ToString());
            }
        }

        // First token, cached calls.
        var first = await h.Provider.GetTokenAsync();
        captured.Add(first.ToString());
        await client.GetAsync("v1/ping");
        await client.GetAsync("v1/ping");

        // 401 -> refresh -> resend, then a second 401 returned to the caller.
        api.RejectedTokens.Add(first.Value);
        await client.GetAsync("v1/ping");
        var second = await h.Provider.GetTokenAsync();
        api.RejectedTokens.Add(second.Value);
        responses.Enqueue(() => StubTokenEndpoint.Token("zqxfinal" + Guid.NewGuid().ToString("N")));
        await client.GetAsync("v1/ping");
        api.RejectedTokens.Clear();

        // Background refresh that fails with a gateway that echoes the request, then expiry with errors of every shape.
        responses.Enqueue(() => StubTokenEndpoint.Json(HttpStatusCode.BadRequest,
            $$"""{"detail":"bad client_secret={{Uri.EscapeDataString(ProviderHarness.Secret)}}&password={{ProviderHarness.UserPassword}}"}"""));
        h.Time.Advance(TimeSpan.FromSeconds(3599 - 290));
        await client.GetAsync("v1/ping");
        await Poll.UntilAsync(() => h.Logs.GetSnapshot().Any(r => r.Id.Id == 4), "the background-refresh-failed warning (event 4)");

        h.Time.Advance(TimeSpan.FromHours(2));
        foreach (var body in new[]
        {
            $$"""{"ErrorCode":"invalid_client","Error":"{{ProviderHarness.Secret}} is invalid"}""",
            "{\"fault\":{\"faultstring\":\"" + ProviderHarness.UserPassword + "\",\"detail\":{\"errorcode\":\"x\"}}}",
            $$"""<html><title>{{ProviderHarness.Secret}}</title></html>""",
            $$"""{"error":"invalid_grant","error_description":"{{ProviderHarness.UserPassword}}"}""",
        })
        {
            responses.Enqueue(() => StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, body));
            await Capture(() => client.GetAsync("v1/ping"));

            // A caller inside the refusal window fails at once with the same (scrubbed) error; then the window passes.
            await Capture(() => client.GetAsync("v1/ping"));
            h.Time.Advance(TokenRetryRules.MaxForegroundDelay);
        }

        responses.Enqueue(() => throw new HttpRequestException("connection reset"));
        await Capture(() => client.GetAsync("v1/ping"));

        // After failures in a row, the next attempt waits for its back-off (callers share it rather than fail).
        h.Time.Advance(TokenRetryRules.MaxForegroundDelay);
        responses.Enqueue(() => StubTokenEndpoint.Json(HttpStatusCode.OK, "{\"access_token\":\"bad\r\ntoken\"}"));
        await Capture(() => client.GetAsync("v1/ping"));
        h.Time.Advance(TokenRetryRules.MaxForegroundDelay);

        // Recovery.
        await client.GetAsync("v1/ping");
        captured.Add(h.Options.Get("").ToString());
        captured.Add(h.Caching.Lifecycle!.Key.ToString());

        var text = h.AllLogText + "\n" + string.Join("\n", captured) + "\n" + telemetry.Text;
        Assert.That(telemetry.Text, Does.Contain("rapidsos.auth.token_requests").And.Contain("RapidSOS token request"), "metrics and traces were captured");
        Assert.That(h.Logs.GetSnapshot(), Has.Count.GreaterThan(10), "the scenarios must have logged");
        Assert.That(issued, Has.Count.GreaterThanOrEqualTo(3));
        Assert.That(text, Does.Not.Contain(ProviderHarness.Secret));
        Assert.That(text, Does.Not.Contain(Uri.EscapeDataString(ProviderHarness.Secret)));
        Assert.That(text, Does.Not.Contain(ProviderHarness.UserPassword));
        Assert.That(text, Does.Not.Contain("zqx"), "no issued token may appear anywhere");
        foreach (var token in issued)
        {
            Assert.That(text, Does.Not.Contain(token));
        }
    }
}

public class SecretHygieneIntegrationTests
{
    private const string Secret = "emulator-Secret-p@ss&word=+% é";
    private const string Password = "portal-Password-&=+ %";

    [Test]
    public async Task EveryGatewayScenario_LogsMetricsTracesAndExceptions_NeverContainSecretPasswordOrToken()
    {
        using var telemetry = new TelemetryCapture();
        var captured = new List<string>();
        await using var f = await Integration.GatewayFixture.StartAsync(
            g => { g.ClientSecret = Secret; g.Password = Password; g.TokenLatency = TimeSpan.FromMilliseconds(5); },
            o => { o.GrantType = RapidSosGrantType.Password; o.Username = "emulator-user"; o.Password = Password; });
        async Task Run(Func<Task> scenario)
        {
            try
            {
                await scenario();
            }
            catch (Exception ex)
            {
                captured.Add(ex.ToString());
            }
        }

        var api = f.Api;
        await Run(() => api.GetAsync("v1/ping"));
        await Run(() => api.PostAsync("v1/echo", new StringContent("{\"a\":1}")));
        f.Gateway.RevokeAllTokens();
        await Run(() => Task.WhenAll(Enumerable.Range(0, 20).Select(_ => api.GetAsync("v1/ping"))));
        await Run(() => Task.Run(() => api.Send(new HttpRequestMessage(HttpMethod.Get, "v1/ping"))));
        f.Gateway.RejectAllTokens = true;
        await Run(() => api.GetAsync("v1/ping"));
        f.Gateway.RejectAllTokens = false;
        foreach (var fault in new[]
        {
            Testing.EmulatorFault.Detail(500, "Internal server error"), Testing.EmulatorFault.TooManyRequests(TimeSpan.FromSeconds(1)),
            Testing.EmulatorFault.InvalidClient(), Testing.EmulatorFault.Html(502), Testing.EmulatorFault.Empty(503),
            Testing.EmulatorFault.MalformedJson(), Testing.EmulatorFault.ConnectionReset(),
            Testing.EmulatorFault.OAuthError(400, "invalid_grant", "bad password"),
        })
        {
            f.Gateway.RevokeAllTokens();
            f.Gateway.EnqueueFault(fault);
            await Run(() => api.GetAsync("v1/ping"));
            await Run(() => api.GetAsync("v1/ping"));

            // Past any refusal or Retry-After window, so the next fault meets a token request.
            f.Time.Advance(TokenRetryRules.MaxForegroundDelay);
            await Run(() => api.GetAsync("v1/ping"));
        }

        // Refresh ahead with a failing endpoint, then expiry.
        f.Gateway.EnqueueFault(Testing.EmulatorFault.Detail(500, "down"));
        f.Time.Advance(TimeSpan.FromMinutes(57));
        await Run(() => api.GetAsync("v1/ping"));
        await Poll.UntilAsync(() => f.Logs.GetSnapshot().Any(r => r.Id.Id == 4), "the background-refresh-failed warning (event 4)");
        f.Time.Advance(TimeSpan.FromHours(2));
        await Run(() => api.GetAsync("v1/ping"));

        var text = string.Join("\n", f.Logs.GetSnapshot().Select(r => $"{r.Level} {r.Message} {r.Exception}"))
            + "\n" + string.Join("\n", captured) + "\n" + telemetry.Text;
        Assert.That(f.Gateway.IssuedTokens, Has.Count.GreaterThanOrEqualTo(5));
        Assert.That(telemetry.MeasurementCount, Is.GreaterThan(10));
        Assert.That(text, Does.Contain("RapidSOS token request"));
        Assert.That(text, Does.Not.Contain(Secret).And.Not.Contain(Uri.EscapeDataString(Secret)));
        Assert.That(text, Does.Not.Contain(Password).And.Not.Contain(Uri.EscapeDataString(Password)));
        foreach (var token in f.Gateway.IssuedTokens)
        {
            Assert.That(text, Does.Not.Contain(token));
        }
    }
}
