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
        Report.Section($"4. loopback throughput: {Workers} workers, {requests:N0} requests per run, runs A B A B, best of each (Kestrel emulator)");
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
        double bestWith = 0, bestWithout = 0;
        double cpuWith = double.MaxValue, cpuWithout = double.MaxValue;
        var runs = new List<double>();
        for (var round = 0; round < 2; round++)
        {
            var with = await RunArmAsync(WithHandler, requests);
            var without = await RunArmAsync(WithoutHandler, requests);
            runs.Add(with.RequestsPerSecond);
            runs.Add(without.RequestsPerSecond);
            failures += with.Failures + without.Failures;
            bestWith = Math.Max(bestWith, with.RequestsPerSecond);
            bestWithout = Math.Max(bestWithout, without.RequestsPerSecond);
            cpuWith = Math.Min(cpuWith, with.CpuMicrosecondsPerRequest);
            cpuWithout = Math.Min(cpuWithout, without.CpuMicrosecondsPerRequest);
            Report.Figure($"throughput.run{round + 1}.with_handler", with.RequestsPerSecond, "req/s", "0");
            Report.Figure($"throughput.run{round + 1}.without_handler", without.RequestsPerSecond, "req/s", "0");
        }

        Report.Check("throughput.failed_requests", failures, 0, 0, "requests");
        Report.Check("throughput.token_requests", gateway.TokenRequestCount - tokenRequests, 0, 0, "requests");
        Report.Figure("throughput.with_handler", bestWith, "req/s", "0");
        Report.Figure("throughput.without_handler", bestWithout, "req/s", "0");
        var ratio = bestWith / bestWithout;
        Report.Goal("throughput.ratio_with_to_without", Report.Format(ratio, "0.000"), "x", ratio >= 0.97, ">= 0.97");

        // The same four runs, A1 B1 A2 B2, read so that a steady drift cancels: B1 against the mean of A1 and A2 on
        // either side of it, A2 against the mean of B1 and B2.
        var (a1, b1, a2, b2) = (runs[0], runs[1], runs[2], runs[3]);
        var driftCorrected = Math.Sqrt((a2 / ((b1 + b2) / 2)) / (b1 / ((a1 + a2) / 2)));
        Report.Figure("throughput.ratio_drift_corrected", driftCorrected, "x", "0.000", "A2 / mean(B1, B2) and mean(A1, A2) / B1, geometric mean");

        // The process's CPU time per request (client and server together) does not depend on what else the machine
        // runs; on a busy machine it is the steadier way to compare the arms.
        Report.Figure("throughput.with_handler.cpu_per_request", cpuWith, "us", "0.00", "process CPU time, best run");
        Report.Figure("throughput.without_handler.cpu_per_request", cpuWithout, "us", "0.00", "process CPU time, best run");
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

    private sealed record ArmResult(double RequestsPerSecond, double CpuMicrosecondsPerRequest, int Failures);
}
