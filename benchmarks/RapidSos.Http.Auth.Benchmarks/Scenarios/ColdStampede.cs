using System.Diagnostics;
using System.Net;
using RapidSos.Http.Auth.Benchmarks.Quick;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// Scenario 2: 10,000 concurrent requests on a cold cache, the token endpoint (Kestrel emulator) answering after
/// 50 ms. Exactly one token request must be made; the callers' latency is reported against the token latency. The
/// API is a canned 200 in process, so a caller's latency is its wait for the token plus the handler.
/// </summary>
internal static class ColdStampede
{
    private const int Callers = 10_000;
    private static readonly TimeSpan s_tokenLatency = TimeSpan.FromMilliseconds(50);

    public static async Task RunAsync()
    {
        Report.Section($"2. cold stampede: {Callers:N0} concurrent requests, cold cache, token latency {s_tokenLatency.TotalMilliseconds:0} ms (Kestrel emulator)");
        await using var gateway = await RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions
        {
            TokenLatency = s_tokenLatency,
            MaxRecordedRequests = 0,
        });

        // A first, smaller stampede on its own container compiles the code paths; the measured one starts from an
        // empty cache in a new container, as an application does after a restart.
        await StampedeAsync(gateway, 500);

        var tokenRequests = gateway.TokenRequestCount;
        var successfulTokenRequests = gateway.SuccessfulTokenRequestCount;
        var result = await StampedeAsync(gateway, Callers);
        tokenRequests = gateway.TokenRequestCount - tokenRequests;
        successfulTokenRequests = gateway.SuccessfulTokenRequestCount - successfulTokenRequests;

        var token = s_tokenLatency.TotalMilliseconds;
        var latencies = result.Latencies;
        Report.Check("stampede.token_requests", tokenRequests, 1, 1, "requests");
        Report.Check("stampede.successful_token_requests", successfulTokenRequests, 1, 1, "requests");
        Report.Check("stampede.ok_responses", result.Ok, Callers, Callers, "responses");
        Report.Figure("stampede.token_latency", token, "ms");
        Report.Figure("stampede.caller_latency_p50", latencies.Percentile(50), "ms");
        Report.Figure("stampede.caller_latency_p99", latencies.Percentile(99), "ms");
        Report.Figure("stampede.caller_latency_max", latencies.Max, "ms");
        Report.Figure("stampede.caller_latency_p50_to_token_latency", latencies.Percentile(50) / token, "x", "0.00");
        Report.Figure("stampede.caller_latency_p99_to_token_latency", latencies.Percentile(99) / token, "x", "0.00");
        Report.Figure("stampede.launch_spread", result.LaunchSpreadMs, "ms", note: "time to start all callers on this machine");
        Report.Figure("stampede.wall_time", result.WallMs, "ms", note: "first caller started to last caller done");
    }

    private static async Task<StampedeResult> StampedeAsync(RapidSosGatewayEmulator gateway, int callers)
    {
        await using var pipeline = AuthPipeline.Create(gateway);
        using var invoker = new HttpMessageInvoker(pipeline.CreateHandler(new OkTerminal()), disposeHandler: true);
        var uri = new Uri(pipeline.BaseAddress, "v1/ping");
        var requests = new HttpRequestMessage[callers];
        for (var i = 0; i < callers; i++)
        {
            requests[i] = new HttpRequestMessage(HttpMethod.Get, uri);
        }

        var latencies = new double[callers];
        var statuses = new HttpStatusCode[callers];
        var calls = new Task[callers];
        var first = Stopwatch.GetTimestamp();
        for (var i = 0; i < callers; i++)
        {
            calls[i] = CallAsync(invoker, requests[i], latencies, statuses, i);
        }

        var launched = Stopwatch.GetTimestamp();
        await Task.WhenAll(calls);
        var done = Stopwatch.GetTimestamp();

        foreach (var request in requests)
        {
            request.Dispose();
        }

        return new StampedeResult(
            new Latencies(latencies),
            statuses.Count(s => s == HttpStatusCode.OK),
            Latencies.Milliseconds(first, launched),
            Latencies.Milliseconds(first, done));
    }

    private static async Task CallAsync(HttpMessageInvoker invoker, HttpRequestMessage request, double[] latencies, HttpStatusCode[] statuses, int index)
    {
        var start = Stopwatch.GetTimestamp();
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        latencies[index] = Latencies.Milliseconds(start, Stopwatch.GetTimestamp());
        statuses[index] = response.StatusCode;
    }

    private sealed record StampedeResult(Latencies Latencies, int Ok, double LaunchSpreadMs, double WallMs);
}
