using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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
        await ProviderTestWait.UntilAsync(() => h.Logs.GetSnapshot().Any(r => r.Id.Id == 4));

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
        }

        responses.Enqueue(() => throw new HttpRequestException("connection reset"));
        await Capture(() => client.GetAsync("v1/ping"));
        responses.Enqueue(() => StubTokenEndpoint.Json(HttpStatusCode.OK, "{\"access_token\":\"bad\r\ntoken\"}"));
        await Capture(() => client.GetAsync("v1/ping"));

        // Recovery.
        await client.GetAsync("v1/ping");
        captured.Add(h.Options.Get("").ToString());
        captured.Add(h.Caching.Current!.Key.ToString());

        var text = h.AllLogText + "\n" + string.Join("\n", captured);
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

internal static class ProviderTestWait
{
    public static Task UntilAsync(Func<bool> condition) => Internal.CachingTokenProviderTests.WaitUntilAsync(condition);
}
