using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Benchmarks.Quick;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// Scenario 2b: a cold start with run-time credentials. 1,000 agencies, 10 concurrent callers each (10,000 in all,
/// the agencies interleaved), every request carrying its agency's <see cref="RapidSosCredential"/>, through a named
/// client with <c>AddRapidSosBearerToken()</c>; the token endpoint (Kestrel emulator, the library's own back
/// channel) answers after 50 ms. Exactly one token request per agency must be made, and every request must carry a
/// token issued to its own agency; the callers' latency is reported against the token latency. The API is a canned
/// 200 in process, as in scenario 2, so a caller's latency is its wait for its agency's token plus the handler.
/// </summary>
/// <remarks>
/// Whose token a request carried is checked from the emulator's record of the token requests: each names the
/// client id it presented and the token it was issued. The same record tells when each token request reached the
/// emulator (its body read, before the token latency), which splits a caller's wait into getting the token
/// request there and the rest.
/// </remarks>
internal static class AgencyStampede
{
    private const int Agencies = 1_000;
    private const int CallersPerAgency = 10;
    private const int WarmupAgencies = 20;
    private const string ClientName = "bench-agencies";
    private static readonly TimeSpan s_tokenLatency = TimeSpan.FromMilliseconds(50);

    public static async Task RunAsync()
    {
        Report.Section($"2b. cold start, run-time credentials: {Agencies:N0} agencies x {CallersPerAgency} concurrent callers, each request with its agency's credential, token latency {s_tokenLatency.TotalMilliseconds:0} ms (Kestrel emulator, named client with AddRapidSosBearerToken)");
        var options = new RapidSosGatewayEmulatorOptions { TokenLatency = s_tokenLatency, MaxRecordedRequests = 2 * Agencies };
        await using (var gateway = await RapidSosGatewayEmulator.StartAsync(options))
        {
            await MeasureAsync(gateway, "agencies", withGoal: true);
        }

        // The same through the in-memory emulator: no sockets, no Kestrel sharing the cores, so what is left of the
        // callers' wait beyond the token latency is the library's (and the emulator's) own work.
        Report.Note("the same with the in-memory emulator as the back channel's primary handler (no connections, no Kestrel): figures only");
        using (var gateway = RapidSosGatewayEmulator.CreateInMemory(options))
        {
            await MeasureAsync(gateway, "agencies.in_memory", withGoal: false);
        }
    }

    private static async Task MeasureAsync(RapidSosGatewayEmulator gateway, string name, bool withGoal)
    {
        for (var i = 0; i < Agencies; i++)
        {
            gateway.AddClient(ClientId(i), Secret(i));
        }

        // A first, smaller run on its own container compiles the code paths; the measured one starts from empty
        // caches and no connections in a new container, as an application does after a restart.
        await StampedeAsync(gateway, WarmupAgencies);
        gateway.ResetRecords();

        var result = await StampedeAsync(gateway, Agencies);
        var issuedTo = new Dictionary<string, string>(StringComparer.Ordinal);
        var arrivals = new List<double>(Agencies);
        foreach (var tokenRequest in gateway.TokenRequests)
        {
            arrivals.Add((tokenRequest.Timestamp - result.StartedAt).TotalMilliseconds);
            if (tokenRequest is { Token: { } issued, ClientId: { } clientId })
            {
                issuedTo[issued] = clientId;
            }
        }

        var wrongAgency = 0;
        for (var i = 0; i < result.SentTokens.Length; i++)
        {
            if (result.SentTokens[i] is not { } sent || !issuedTo.TryGetValue(sent, out var owner) || owner != ClientId(i % Agencies))
            {
                wrongAgency++;
            }
        }

        var token = s_tokenLatency.TotalMilliseconds;
        var latencies = result.Latencies;
        var goal = 2 * token;
        Report.Check($"{name}.token_requests", gateway.TokenRequestCount, Agencies, Agencies, "requests");
        Report.Check($"{name}.successful_token_requests", gateway.SuccessfulTokenRequestCount, Agencies, Agencies, "requests");
        Report.Check($"{name}.ok_responses", result.Ok, Agencies * CallersPerAgency, Agencies * CallersPerAgency, "responses");
        Report.Check($"{name}.distinct_tokens_sent", result.SentTokens.Distinct(StringComparer.Ordinal).Count(), Agencies, Agencies, "tokens");
        Report.Check($"{name}.requests_with_another_agencys_token", wrongAgency, 0, 0, "requests");
        Report.Figure($"{name}.token_latency", token, "ms");
        Report.Figure($"{name}.caller_latency_p50", latencies.Percentile(50), "ms");
        Report.Figure($"{name}.caller_latency_p99", latencies.Percentile(99), "ms");
        if (withGoal)
        {
            Report.Goal($"{name}.caller_latency_max", Report.Format(latencies.Max), "ms", latencies.Max <= goal, $"every caller within about 2x the token latency, <= {goal:0} ms");
        }
        else
        {
            Report.Figure($"{name}.caller_latency_max", latencies.Max, "ms");
        }

        Report.Figure($"{name}.caller_latency_p50_to_token_latency", latencies.Percentile(50) / token, "x", "0.00");
        Report.Figure($"{name}.caller_latency_max_to_token_latency", latencies.Max / token, "x", "0.00");
        var arrived = new Latencies(arrivals);
        Report.Figure($"{name}.token_request_arrival_first", arrived.Min, "ms", note: "first caller started to the first token request read by the emulator");
        Report.Figure($"{name}.token_request_arrival_p50", arrived.Percentile(50), "ms");
        Report.Figure($"{name}.token_request_arrival_last", arrived.Max, "ms", note: "its token comes back a token latency later, at the earliest");
        Report.Figure($"{name}.launch_spread", result.LaunchSpreadMs, "ms", note: "time to start all callers on this machine");
        Report.Figure($"{name}.wall_time", result.WallMs, "ms", note: "first caller started to last caller done");
        Report.Figure($"{name}.process_cpu_time", result.CpuMs, "ms", note: $"this process's CPU time over the wall time: {result.CpuMs / result.WallMs:0.0} of {Environment.ProcessorCount} cores busy, the emulator's share included");
    }

    private static string ClientId(int agency) => $"agency-{agency:D4}";

    private static string Secret(int agency) => $"agency-secret-{agency:D4}";

    private static async Task<StampedeResult> StampedeAsync(RapidSosGatewayEmulator gateway, int agencies)
    {
        await using var pipeline = AuthPipeline.Create(gateway, services => services
            .AddHttpClient(ClientName)
            .RemoveAllLoggers()
            .AddRapidSosBearerToken()
            .ConfigurePrimaryHttpMessageHandler(() => new OkTerminal()));
        using var client = pipeline.Services.GetRequiredService<IHttpClientFactory>().CreateClient(ClientName);

        // One instance per agency, reused by its callers, as an application keeps them.
        var credentials = new RapidSosCredential[agencies];
        for (var i = 0; i < agencies; i++)
        {
            credentials[i] = new RapidSosCredential(ClientId(i), Secret(i));
        }

        var callers = agencies * CallersPerAgency;
        var uri = new Uri(pipeline.BaseAddress, "v1/ping");
        var requests = new HttpRequestMessage[callers];
        for (var i = 0; i < callers; i++)
        {
            requests[i] = new HttpRequestMessage(HttpMethod.Get, uri).WithRapidSosCredential(credentials[i % agencies]);
        }

        var latencies = new double[callers];
        var statuses = new HttpStatusCode[callers];
        var sentTokens = new string?[callers];
        var calls = new Task[callers];
        var startedAt = DateTimeOffset.UtcNow;
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var first = Stopwatch.GetTimestamp();
        for (var i = 0; i < callers; i++)
        {
            calls[i] = CallAsync(client, requests[i], latencies, statuses, sentTokens, i);
        }

        var launched = Stopwatch.GetTimestamp();
        await Task.WhenAll(calls);
        var done = Stopwatch.GetTimestamp();
        var cpu = Environment.CpuUsage.TotalTime - cpuBefore;

        foreach (var request in requests)
        {
            request.Dispose();
        }

        return new StampedeResult(
            new Latencies(latencies),
            statuses.Count(s => s == HttpStatusCode.OK),
            sentTokens,
            startedAt,
            Latencies.Milliseconds(first, launched),
            Latencies.Milliseconds(first, done),
            cpu.TotalMilliseconds);
    }

    private static async Task CallAsync(HttpClient client, HttpRequestMessage request, double[] latencies, HttpStatusCode[] statuses, string?[] sentTokens, int index)
    {
        var start = Stopwatch.GetTimestamp();
        using var response = await client.SendAsync(request, CancellationToken.None);
        latencies[index] = Latencies.Milliseconds(start, Stopwatch.GetTimestamp());
        statuses[index] = response.StatusCode;
        sentTokens[index] = request.Headers.Authorization?.Parameter;
    }

    private sealed record StampedeResult(Latencies Latencies, int Ok, string?[] SentTokens, DateTimeOffset StartedAt, double LaunchSpreadMs, double WallMs, double CpuMs);
}
