using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests;

public class ObservabilityTests
{
    private static MetricCollector<T> Collect<T>(ProviderHarness h, string instrument)
        where T : struct =>
        new(h.Services.GetRequiredService<IMeterFactory>(), RapidSosAuthDefaults.MeterName, instrument);

    [Test]
    public async Task Logs_DefaultRegistration_IsNamedDefaultNotEmptyQuotes()
    {
        using var h = new ProviderHarness();

        await h.Provider.GetTokenAsync();
        await Poll.UntilAsync(() => h.AllLogText.Contains("Acquired", StringComparison.Ordinal), "the token-acquired log, written after the waiters are released");

        Assert.That(h.AllLogText, Does.Contain("registration '(default)'").And.Not.Contain("registration ''"));
    }

    [Test]
    public async Task TokenRequests_SuccessAndFailure_AreCountedWithOutcomeAndTags()
    {
        using var h = new ProviderHarness(o => o.RefreshBeforeExpiry = TimeSpan.Zero);
        using var requests = Collect<long>(h, "rapidsos.auth.token_requests");
        using var duration = Collect<double>(h, "rapidsos.auth.token_request.duration");

        await h.Provider.GetTokenAsync();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"ErrorCode":"invalid_client","Error":"Client credentials are invalid"}""");
        h.Time.Advance(TimeSpan.FromHours(1));
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        // Telemetry is recorded right after the waiters are released, never before: wait for it.
        await Poll.UntilAsync(() => requests.GetMeasurementSnapshot().Count == 2 && duration.GetMeasurementSnapshot().Count == 2, "both token requests to be measured");
        var measurements = requests.GetMeasurementSnapshot();
        Assert.That(measurements, Has.Count.EqualTo(2));
        Assert.That(measurements[0].Tags["rapidsos.outcome"], Is.EqualTo("success"));
        Assert.That(measurements[0].Tags["rapidsos.grant_type"], Is.EqualTo("client_credentials"));
        Assert.That(measurements[0].Tags["rapidsos.client_id"], Is.EqualTo("client-1"));
        Assert.That(measurements[0].Tags["rapidsos.registration"], Is.EqualTo("(default)"));
        Assert.That(measurements[1].Tags["rapidsos.outcome"], Is.EqualTo("failure"));
        Assert.That(measurements[1].Tags["http.response.status_code"], Is.EqualTo(401));
        Assert.That(measurements[1].Tags["error.type"], Is.EqualTo("401"));
        Assert.That(duration.GetMeasurementSnapshot(), Has.Count.EqualTo(2));
        Assert.That(requests.Instrument!.Unit, Is.EqualTo("{request}"));
        Assert.That(duration.Instrument!.Unit, Is.EqualTo("s"));
    }

    [Test]
    public async Task CacheHitsRetriesAndRefreshFailures_AreCounted()
    {
        using var h = new ProviderHarness();
        using var hits = Collect<long>(h, "rapidsos.auth.cache_hits");
        using var retries = Collect<long>(h, "rapidsos.auth.unauthorized_retries");
        using var refreshFailures = Collect<long>(h, "rapidsos.auth.refresh_failures");
        var services = h.Services;
        var handler = services.GetRequiredService<BearerTokenHandler>();
        var api = new RecordingApiHandler();
        handler.InnerHandler = api;
        using var client = new HttpClient(handler) { BaseAddress = new Uri("https://api.test.example/") };

        var first = await h.Provider.GetTokenAsync();
        await client.GetAsync("v1/ping");
        await client.GetAsync("v1/ping");
        api.RejectedTokens.Add(first.Value);
        await client.GetAsync("v1/ping");
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.InternalServerError, """{"detail":"down"}""");
        h.Time.Advance(TimeSpan.FromSeconds(3599 - 200));
        await client.GetAsync("v1/ping");
        await Poll.UntilAsync(() => refreshFailures.GetMeasurementSnapshot().Count == 1, "the refresh failure to be counted");

        Assert.That(hits.GetMeasurementSnapshot().Count, Is.GreaterThanOrEqualTo(3));
        Assert.That(retries.GetMeasurementSnapshot().Single().Tags["rapidsos.registration"], Is.EqualTo("(default)"));
        Assert.That(refreshFailures.GetMeasurementSnapshot().Single().Tags["rapidsos.client_id"], Is.EqualTo("client-1"));
    }

    [Test]
    public async Task TokenRequest_IsTracedWithEndpointStatusAndError()
    {
        var activities = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RapidSosAuthDefaults.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (activities) { activities.Add(a); } },
        };
        ActivitySource.AddActivityListener(listener);
        using var h = new ProviderHarness(o => o.RefreshBeforeExpiry = TimeSpan.Zero);
        using var parent = new Activity("caller request").Start();

        await h.Provider.GetTokenAsync();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.TooManyRequests, """{"detail":"Too many requests. Please try again later"}""");
        h.Time.Advance(TimeSpan.FromHours(1));
        Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        // The span ends right after the waiters are released, never before: wait for it.
        await Poll.UntilAsync(() =>
        {
            lock (activities)
            {
                return activities.Count(a => a.OperationName == "RapidSOS token request" && a.TraceId == parent.TraceId) == 2;
            }
        }, "both token request spans to end");
        var mine = activities.Where(a => a.OperationName == "RapidSOS token request" && a.TraceId == parent.TraceId).ToArray();
        Assert.That(mine, Has.Length.EqualTo(2));
        Assert.That(mine[0].Status, Is.EqualTo(ActivityStatusCode.Ok));
        Assert.That(mine[0].GetTagItem("server.address"), Is.EqualTo("api.test.example"));
        Assert.That(mine[0].GetTagItem("http.response.status_code"), Is.EqualTo(200));
        Assert.That(mine[0].ParentSpanId, Is.EqualTo(parent.SpanId), "the token request shows up in the caller's trace");
        Assert.That(mine[1].Status, Is.EqualTo(ActivityStatusCode.Error));
        Assert.That(mine[1].StatusDescription, Does.Contain("Too many requests"));
        Assert.That(mine[1].GetTagItem("error.type"), Is.EqualTo("429"));
        var allText = string.Join("\n", mine.SelectMany(a => a.TagObjects.Select(t => $"{t.Key}={t.Value}")).Append(mine[1].StatusDescription));
        Assert.That(allText, Does.Not.Contain(ProviderHarness.Secret));
        Assert.That(allText, Does.Not.Contain("token-1"));
    }
}
