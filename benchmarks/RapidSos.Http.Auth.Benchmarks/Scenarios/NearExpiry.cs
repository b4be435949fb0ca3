using System.Diagnostics;
using System.Net;
using RapidSos.Http.Auth.Benchmarks.Quick;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// Scenario 3b: 3-second tokens from the Kestrel emulator (token latency 50 ms), 100 requests a second for 5 seconds
/// with refresh ahead (the default window, capped at a fifth of the lifetime: 0.6 s). About two token requests are
/// made, and no caller waits for one: the slowest caller through the handler is compared with the slowest call
/// to the canned response without it, made on the same ticks.
/// </summary>
internal static class NearExpiry
{
    private const int RequestsPerSecond = 100;
    private static readonly TimeSpan s_duration = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_tokenLifetime = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan s_tokenLatency = TimeSpan.FromMilliseconds(50);

    public static async Task RunAsync()
    {
        Report.Section($"3b. near expiry: {s_tokenLifetime.TotalSeconds:0} s tokens, {RequestsPerSecond} requests/s for {s_duration.TotalSeconds:0} s, refresh ahead, token latency {s_tokenLatency.TotalMilliseconds:0} ms (Kestrel emulator)");
        await using var gateway = await RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions
        {
            TokenLifetime = s_tokenLifetime,
            TokenLatency = s_tokenLatency,
            MaxRecordedRequests = 0,
        });
        await using var pipeline = AuthPipeline.Create(gateway);
        using var terminal = new OkTerminal();
        using var withHandler = new HttpMessageInvoker(pipeline.CreateHandler(terminal), disposeHandler: false);
        using var withoutHandler = new HttpMessageInvoker(terminal, disposeHandler: false);
        var uri = new Uri(pipeline.BaseAddress, "v1/ping");

        // The first token and compiled code paths before the clock starts; the run then counts the refreshes alone.
        await pipeline.WarmAsync();
        for (var i = 0; i < 100; i++)
        {
            await SendAsync(withHandler, uri);
            await SendAsync(withoutHandler, uri);
        }

        var requestCount = (int)(RequestsPerSecond * s_duration.TotalSeconds);
        var handlerLatencies = new double[requestCount];
        var cannedLatencies = new double[requestCount];
        var ok = 0;
        var tokenRequests = gateway.TokenRequestCount;
        var successfulTokenRequests = gateway.SuccessfulTokenRequestCount;
        var first = await pipeline.Tokens.GetTokenAsync();

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / RequestsPerSecond));
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < requestCount && await timer.WaitForNextTickAsync(); i++)
        {
            (cannedLatencies[i], _) = await SendAsync(withoutHandler, uri);
            (handlerLatencies[i], var status) = await SendAsync(withHandler, uri);
            ok += status == HttpStatusCode.OK ? 1 : 0;
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        tokenRequests = gateway.TokenRequestCount - tokenRequests;
        successfulTokenRequests = gateway.SuccessfulTokenRequestCount - successfulTokenRequests;
        var last = await pipeline.Tokens.GetTokenAsync();

        var handler = new Latencies(handlerLatencies);
        var canned = new Latencies(cannedLatencies);
        var tokenLatency = s_tokenLatency.TotalMilliseconds;
        Report.Check("near_expiry.token_requests", tokenRequests, 1, 3, "requests"); // about 2: refresh-ahead every 2.4 s of a 3 s lifetime
        Report.Check("near_expiry.successful_token_requests", successfulTokenRequests, 1, 3, "requests");
        Report.Check("near_expiry.ok_responses", ok, requestCount, requestCount, "responses");
        Report.Figure("near_expiry.rate", requestCount / elapsed.TotalSeconds, "requests/s");
        Report.Figure("near_expiry.token_replaced", ReferenceEquals(first, last) ? 0 : 1, "(1 = yes)", "0", "the token served at the end is not the one served at the start");
        Report.Figure("near_expiry.token_latency", tokenLatency, "ms");
        Report.Figure("near_expiry.canned_latency_max", canned.Max * 1000, "us", note: "the canned 200 without the handler, same ticks");
        Report.Figure("near_expiry.caller_latency_p50", handler.Percentile(50) * 1000, "us");
        Report.Figure("near_expiry.caller_latency_p99", handler.Percentile(99) * 1000, "us");
        Report.Goal("near_expiry.caller_latency_max", Report.Format(handler.Max * 1000), "us", handler.Max < tokenLatency, $"< token latency {tokenLatency:0} ms: no caller waited for a token");
        Report.Figure("near_expiry.callers_over_1ms", handler.CountAtLeast(1), "callers", "0");
    }

    private static async Task<(double Milliseconds, HttpStatusCode Status)> SendAsync(HttpMessageInvoker invoker, Uri uri)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        var start = Stopwatch.GetTimestamp();
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        return (Latencies.Milliseconds(start, Stopwatch.GetTimestamp()), response.StatusCode);
    }
}
