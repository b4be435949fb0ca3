using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using RapidSos.Http.Auth.Benchmarks.Quick;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// Scenario 4: end to end over loopback HTTP against the Kestrel emulator's API (<c>GET v1/ping</c>), 64 concurrent
/// workers sending a fixed number of requests, with <see cref="BearerTokenHandler"/> and without it. Without it, the
/// same token goes in <see cref="HttpClient.DefaultRequestHeaders"/>, so the server does the same work; both arms
/// use the same <see cref="SocketsHttpHandler"/> settings, a new one each run, warmed before timing. The arms run
/// A B A B and the best run of each counts, to damp the noise of a small machine shared with the server.
/// </summary>
internal static class LoopbackThroughput
{
    private const int Workers = 64;
    private const int WarmupRequestsPerWorker = 20;

    public static async Task RunAsync(int requests)
    {
        Report.Section($"4. loopback throughput: {Workers} workers, {requests:N0} requests per run, runs A B B A B A A B, medians (Kestrel emulator)");
        await using var gateway = await RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions { MaxRecordedRequests = 0 });
        await using var pipeline = AuthPipeline.Create(gateway);
        var token = await pipeline.WarmAsync();

        HttpClient WithHandler() =>
            new(pipeline.CreateHandler(Loopback.CreateSocketsHandler(Workers)), disposeHandler: true) { BaseAddress = gateway.BaseAddress };

        HttpClient WithoutHandler()
        {
            var client = new HttpClient(Loopback.CreateSocketsHandler(Workers), disposeHandler: true) { BaseAddress = gateway.BaseAddress };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Value);
            return client;
        }

        // Untimed passes first, alternating too: on a young process the client's and the server's code is still
        // being tiered up, and each run is faster than the one before it, which would favour whichever arm runs later.
        for (var pass = 0; pass < 2; pass++)
        {
            await RunArmAsync(WithHandler, requests / 2);
            await RunArmAsync(WithoutHandler, requests / 2);
        }

        var tokenRequests = gateway.TokenRequestCount;
        var failures = 0;
        var with = new List<ArmResult>();
        var without = new List<ArmResult>();

        // A B B A, twice: on a small machine each run tends to be faster than the one before (tiering, caches,
        // the thread pool growing), and a mirrored order cancels a steady drift that best-of would credit to
        // whichever arm ran last.
        foreach (var withFirst in new[] { true, false, true, false })
        {
            var first = await RunArmAsync(withFirst ? WithHandler : WithoutHandler, requests);
            var second = await RunArmAsync(withFirst ? WithoutHandler : WithHandler, requests);
            (withFirst ? with : without).Add(first);
            (withFirst ? without : with).Add(second);
            failures += first.Failures + second.Failures;
        }

        for (var i = 0; i < with.Count; i++)
        {
            Report.Figure($"throughput.run{i + 1}.with_handler", with[i].RequestsPerSecond, "req/s", "0");
            Report.Figure($"throughput.run{i + 1}.without_handler", without[i].RequestsPerSecond, "req/s", "0");
        }

        Report.Check("throughput.failed_requests", failures, 0, 0, "requests");
        Report.Check("throughput.token_requests", gateway.TokenRequestCount - tokenRequests, 0, 0, "requests");
        var medianWith = Median(with.Select(r => r.RequestsPerSecond));
        var medianWithout = Median(without.Select(r => r.RequestsPerSecond));
        Report.Figure("throughput.with_handler", medianWith, "req/s", "0", "median of 4 runs");
        Report.Figure("throughput.without_handler", medianWithout, "req/s", "0", "median of 4 runs");
        var ratio = medianWith / medianWithout;
        Report.Goal("throughput.ratio_with_to_without", Report.Format(ratio, "0.000"), "x", ratio >= 0.97, ">= 0.97");
        var pairRatios = with.Zip(without, (a, b) => a.RequestsPerSecond / b.RequestsPerSecond).ToArray();
        Report.Figure("throughput.ratio_per_pair_min", pairRatios.Min(), "x", "0.000", "the four A/B pairs, order alternating");
        Report.Figure("throughput.ratio_per_pair_max", pairRatios.Max(), "x", "0.000");

        var cpuWith = Median(with.Select(r => r.CpuMicrosecondsPerRequest));
        var cpuWithout = Median(without.Select(r => r.CpuMicrosecondsPerRequest));
        Report.Figure("throughput.with_handler.cpu_per_request", cpuWith, "us", "0.00", "process CPU time, median run");
        Report.Figure("throughput.without_handler.cpu_per_request", cpuWithout, "us", "0.00", "process CPU time, median run");
        var cpuRatio = cpuWithout / cpuWith;
        Report.Figure("throughput.cpu_ratio_with_to_without", cpuRatio, "x", "0.000", "CPU time per request without / with");
    }

    private static async Task<ArmResult> RunArmAsync(Func<HttpClient> createClient, int requests)
    {
        using var client = createClient();
        await RunWorkersAsync(client, Workers * WarmupRequestsPerWorker);
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();
        var failures = await RunWorkersAsync(client, requests);
        var elapsed = Stopwatch.GetElapsedTime(start);
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        return new ArmResult(requests / elapsed.TotalSeconds, cpu.TotalMicroseconds / requests, failures);
    }

    private static async Task<int> RunWorkersAsync(HttpClient client, int requests)
    {
        var remaining = requests;
        var failures = 0;

        async Task WorkerAsync()
        {
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                using var response = await client.GetAsync("v1/ping");
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }

        var workers = new Task[Workers];
        for (var i = 0; i < Workers; i++)
        {
            workers[i] = Task.Run(WorkerAsync);
        }

        await Task.WhenAll(workers);
        return failures;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed record ArmResult(double RequestsPerSecond, double CpuMicrosecondsPerRequest, int Failures);
}
