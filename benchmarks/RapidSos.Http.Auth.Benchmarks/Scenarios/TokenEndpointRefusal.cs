using System.Diagnostics;
using RapidSos.Http.Auth.Benchmarks.Quick;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// Scenario 5: a gateway that refuses or rate-limits the credentials, or is down, with 32 workers calling as fast as
/// they can for 3 s and no valid token. Counts the token requests that reach the gateway (the goal: at most 4
/// against a refused secret, 3 against 429 with <c>Retry-After: 2</c>, 6 against 503), then fixes the gateway and
/// measures how soon a caller polling every 100 ms succeeds (goal: within 6 s).
/// </summary>
internal static class TokenEndpointRefusal
{
    private const int Workers = 32;
    private static readonly TimeSpan s_duration = TimeSpan.FromSeconds(3);

    public static async Task RunAsync()
    {
        Report.Section($"5. token endpoint refusing: {Workers} workers for {s_duration.TotalSeconds:0} s with no valid token (Kestrel emulator)");
        await RunCaseAsync("refusal.invalid_client", EmulatorFault.InvalidClient(), maxRequests: 4);
        await RunCaseAsync("refusal.invalid_user", EmulatorFault.Detail(400, "Invalid user credentials."), maxRequests: 4);
        await RunCaseAsync("refusal.too_many_requests", EmulatorFault.TooManyRequests(TimeSpan.FromSeconds(2)), maxRequests: 3);
        await RunCaseAsync("refusal.service_unavailable", EmulatorFault.Detail(503, "Service unavailable"), maxRequests: 6);
    }

    private static async Task RunCaseAsync(string name, EmulatorFault fault, int maxRequests)
    {
        await using var gateway = await RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions { MaxRecordedRequests = 0 });
        var refusing = true;
        gateway.TokenFaultRule = _ => Volatile.Read(ref refusing) ? fault : null;
        await using var pipeline = AuthPipeline.Create(gateway);
        using var invoker = new HttpMessageInvoker(pipeline.CreateHandler(new OkTerminal()), disposeHandler: true);
        var uri = new Uri(pipeline.BaseAddress, "v1/ping");

        long calls = 0;
        long failures = 0;
        using var stop = new CancellationTokenSource(s_duration);
        var workers = Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref calls);
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                    using var response = await invoker.SendAsync(request, stop.Token);
                }
                catch (RapidSosAuthenticationException)
                {
                    Interlocked.Increment(ref failures);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var sent = gateway.TokenRequestCount;

        // The gateway accepts again: a caller polling every 100 ms.
        Volatile.Write(ref refusing, false);
        var fixedAt = Stopwatch.GetTimestamp();
        var recovered = double.NaN;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                using var response = await invoker.SendAsync(request, CancellationToken.None);
                recovered = Stopwatch.GetElapsedTime(fixedAt).TotalSeconds;
                break;
            }
            catch (RapidSosAuthenticationException)
            {
                await Task.Delay(100);
            }
        }

        Report.Figure($"{name}.calls", calls, "calls", "0", $"{failures} failed, as they must with no token to be had");
        Report.Goal($"{name}.token_requests", sent.ToString(System.Globalization.CultureInfo.InvariantCulture), "requests", sent <= maxRequests, $"<= {maxRequests} in {s_duration.TotalSeconds:0} s");
        Report.Goal($"{name}.recovery", Report.Format(recovered, "0.00"), "s", recovered <= 6, "a caller polling every 100 ms succeeds within 6 s");
    }
}
