using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Benchmarks.Quick;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// Scenario 3: 1,000 concurrent requests to the emulator's API over loopback whose cached token has just been
/// revoked. Every one gets a 401, exactly one token request replaces the token, and every one succeeds on its
/// resend. Time to recover: from the first 401 to the first 200 obtained with the new token, both seen on the wire
/// side of the handler; it should be the token latency plus a few milliseconds (no backoff sleeps). The storm runs
/// twice: the first one also compiles the refresh path (reported as "cold"), the second one is the measurement.
/// </summary>
internal static class UnauthorizedStorm
{
    private const int Callers = 1_000;
    private static readonly TimeSpan s_tokenLatency = TimeSpan.FromMilliseconds(50);

    public static async Task RunAsync()
    {
        Report.Section($"3. 401 storm: {Callers:N0} concurrent requests with a revoked token, token latency {s_tokenLatency.TotalMilliseconds:0} ms (Kestrel emulator)");
        await using var gateway = await RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions
        {
            TokenLatency = s_tokenLatency,
            MaxRecordedRequests = 0,
        });

        // Observers on the wire side of the API calls and of the token request say where the time goes.
        var tokenObserver = new WireObserver();
        await using var pipeline = AuthPipeline.Create(gateway, services =>
            services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).AddHttpMessageHandler(() => tokenObserver));
        await pipeline.WarmAsync();
        var apiObserver = new WireObserver(Loopback.CreateSocketsHandler(int.MaxValue));
        using var client = new HttpClient(pipeline.CreateHandler(apiObserver)) { BaseAddress = gateway.BaseAddress };

        // Two rounds with the valid token open the connections and compile the code; the second is the reference:
        // what 1,000 concurrent requests cost on this machine without any 401.
        await RoundAsync(client);
        var reference = await RoundAsync(client);

        var cold = await StormAsync(gateway, pipeline, client, apiObserver, tokenObserver);
        var warm = await StormAsync(gateway, pipeline, client, apiObserver, tokenObserver);

        var latency = s_tokenLatency.TotalMilliseconds;
        Report.Check("storm.cold.token_requests", cold.TokenRequests, 1, 1, "requests");
        Report.Figure("storm.cold.time_to_recover", cold.TimeToRecoverMs, "ms", note: "first storm, refresh path not yet compiled");
        Report.Check("storm.token_requests", warm.TokenRequests, 1, 1, "requests");
        Report.Check("storm.successful_token_requests", warm.SuccessfulTokenRequests, 1, 1, "requests");
        Report.Check("storm.unauthorized_responses", warm.Unauthorized, Callers, Callers, "responses");
        Report.Check("storm.ok_responses", warm.Round.Ok, Callers, Callers, "responses");
        Report.Figure("storm.token_latency", latency, "ms");
        Report.Figure("storm.first_401", warm.FirstUnauthorizedMs, "ms", note: "storm start to the first 401");
        Report.Figure("storm.token_request_sent_after_first_401", warm.TokenSentAfterFirstUnauthorizedMs, "ms");
        Report.Figure("storm.token_request_duration", warm.TokenRequestMs, "ms", note: "sent to answered, as the back channel sees it");
        Report.Figure("storm.first_200_after_token_response", warm.FirstOkAfterTokenMs, "ms", note: "token answered to the first resend answered");
        Report.Goal("storm.time_to_recover", Report.Format(warm.TimeToRecoverMs), "ms", warm.TimeToRecoverMs <= latency + 10, $"<= token latency + 10 ms = {latency + 10:0} ms; first 401 to first 200");
        Report.Delta("storm.time_to_recover_minus_token_latency", warm.TimeToRecoverMs - latency, "ms");
        Report.Figure("storm.all_recovered", warm.Round.LastDoneMs, "ms", note: "storm start to the last caller's 200");
        Report.Figure("storm.reference_round", reference.LastDoneMs, "ms", note: $"{Callers:N0} concurrent requests with a valid token, start to last 200");
        Report.Delta("storm.all_recovered_minus_reference_round", warm.Round.LastDoneMs - reference.LastDoneMs, "ms", note: "the token request plus a second round trip per caller");
    }

    private static async Task<StormResult> StormAsync(RapidSosGatewayEmulator gateway, AuthPipeline pipeline, HttpClient client, WireObserver api, WireObserver tokens)
    {
        var token = await pipeline.Tokens.GetTokenAsync();
        var tokenRequests = gateway.TokenRequestCount;
        var successfulTokenRequests = gateway.SuccessfulTokenRequestCount;
        var unauthorized = gateway.UnauthorizedCount;
        if (!gateway.RevokeToken(token.Value))
        {
            throw new InvalidOperationException("The emulator did not know the cached token.");
        }

        api.Reset();
        tokens.Reset();
        var round = await RoundAsync(client);
        return new StormResult(
            round,
            gateway.TokenRequestCount - tokenRequests,
            gateway.SuccessfulTokenRequestCount - successfulTokenRequests,
            gateway.UnauthorizedCount - unauthorized,
            Latencies.Milliseconds(round.Start, api.FirstUnauthorized),
            Latencies.Milliseconds(api.FirstUnauthorized, tokens.FirstSent),
            Latencies.Milliseconds(tokens.FirstSent, tokens.FirstResponse),
            Latencies.Milliseconds(tokens.FirstResponse, api.FirstOkAfterUnauthorized),
            Latencies.Milliseconds(api.FirstUnauthorized, api.FirstOkAfterUnauthorized));
    }

    private static async Task<RoundResult> RoundAsync(HttpClient client)
    {
        var completions = new long[Callers];
        var statuses = new HttpStatusCode[Callers];
        var calls = new Task[Callers];
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < Callers; i++)
        {
            calls[i] = CallAsync(client, completions, statuses, i);
        }

        await Task.WhenAll(calls);
        return new RoundResult(start, statuses.Count(s => s == HttpStatusCode.OK), Latencies.Milliseconds(start, completions.Max()));
    }

    private static async Task CallAsync(HttpClient client, long[] completions, HttpStatusCode[] statuses, int index)
    {
        // Off the launching thread, so the 1,000 callers are under way at once.
        await Task.Yield();
        using var response = await client.GetAsync("v1/ping");
        completions[index] = Stopwatch.GetTimestamp();
        statuses[index] = response.StatusCode;
    }

    private sealed record RoundResult(long Start, int Ok, double LastDoneMs);

    private sealed record StormResult(
        RoundResult Round,
        int TokenRequests,
        int SuccessfulTokenRequests,
        int Unauthorized,
        double FirstUnauthorizedMs,
        double TokenSentAfterFirstUnauthorizedMs,
        double TokenRequestMs,
        double FirstOkAfterTokenMs,
        double TimeToRecoverMs);
}
