using RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;
using RapidSos.Http.Auth.Testing;
using RapidSos.Http.Auth.Tests.Shared.Fleet;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Integration;

/// <summary>
/// The fleet as it runs in production: real host processes (test/RapidSos.Http.Auth.FleetHost), each with its own
/// container and its own Redis connection (<c>AddRapidSosRedisTokenCache</c>), against one Kestrel gateway emulator
/// and one real redis-server. Every assertion is a count (token requests the gateway saw, failed calls); how long
/// the load runs is the scenario, never something waited for.
/// </summary>
[NonParallelizable]
public sealed class FleetProcessTests
{
    private static readonly TimeSpan s_shortLifetime = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_longLifetime = TimeSpan.FromHours(1);

    private RedisServer _redis = null!;

    [SetUp]
    public async Task StartRedisAsync() => _redis = await RedisServer.StartAsync();

    [TearDown]
    public async Task StopRedisAsync() => await _redis.DisposeAsync();

    [Test]
    public async Task ColdStart_FourInstancesReleasedAtOnce_OneTokenRequestForTheFleet()
    {
        await using var gateway = await StartGatewayAsync(s_longLifetime);
        await using var fleet = await FleetRun.StartAsync(gateway, new FleetOptions { Instances = 4, Workers = 2, Redis = _redis.Configuration });

        await fleet.GoAsync();
        await fleet.WhenAllSucceededOnceAsync();
        var summaries = await fleet.StopAsync();

        Assert.Multiple(() =>
        {
            Assert.That(gateway.TokenRequestCount, Is.EqualTo(1), fleet.Logs());
            Assert.That(summaries.Select(s => s.TokenRequests).Sum(), Is.EqualTo(1), "token requests the instances counted themselves");
            Assert.That(summaries.Select(s => s.SharedTokens).Sum(), Is.EqualTo(3), "instances that took the one token from Redis");
            Assert.That(summaries.Select(s => s.FailedCalls), Is.All.Zero, fleet.Logs());
        });
    }

    [Test]
    public async Task SustainedLoad_ThreeInstancesWithShortTokens_AtMostOneInstancesBoundPlusTwo()
    {
        var withRedis = await RunSustainedAsync(_redis.Configuration);
        var alone = await RunSustainedAsync(redis: null);

        var bound = FleetBounds.SingleInstanceTokenRequests(withRedis.Duration, s_shortLifetime);
        Assert.Multiple(() =>
        {
            Assert.That(withRedis.TokenRequests, Is.LessThanOrEqualTo(bound + 2), $"one instance alone would need at most {bound} in {withRedis.Duration.TotalSeconds:0.0} s{Environment.NewLine}{withRedis.Logs}");
            Assert.That(withRedis.Summaries.Select(s => s.FailedCalls), Is.All.Zero, withRedis.Logs);
            Assert.That(withRedis.Summaries.Select(s => s.Successes), Is.All.Positive);

            // Behaviour, not timing: without Redis every instance fetches its own tokens.
            Assert.That(alone.TokenRequests, Is.GreaterThan(withRedis.TokenRequests), "the same fleet without Redis");
            Assert.That(alone.Summaries.Select(s => s.FailedCalls), Is.All.Zero, alone.Logs);
        });
    }

    [Test]
    public async Task Revocation_SeenByEveryInstanceAtOnce_OneTokenRequestForTheFleet()
    {
        // Hour-long tokens: nothing is refreshed ahead, so every request after the revocation is its replacement.
        await using var gateway = await StartGatewayAsync(s_longLifetime);
        await using var fleet = await FleetRun.StartAsync(gateway, new FleetOptions { Instances = 3, Workers = 4, Redis = _redis.Configuration });
        await fleet.GoAsync();
        await fleet.WhenAllSucceededOnceAsync();
        var beforeRevocation = await fleet.MarkAsync("revoked");

        gateway.RevokeAllTokens();
        await Poll.UntilAsync(() => fleet.Instances.All(i => i.Latest?.UnauthorizedRetries > 0), "every instance to be answered 401 and resend");
        var seen = await fleet.MarkAsync("seen by all");
        await Poll.UntilAsync(() => fleet.Instances.All(i => i.Latest?.Successes > seen.Reports[i.Name].Successes), "every instance to go on succeeding");
        var summaries = await fleet.StopAsync();

        Assert.Multiple(() =>
        {
            Assert.That(gateway.TokenRequestCount - beforeRevocation.TokenRequests, Is.EqualTo(1), fleet.Logs());
            Assert.That(summaries.Select(s => s.FailedCalls), Is.All.Zero, "every 401 was resent with the fleet's new token");
        });
    }

    [Test]
    public async Task GatewayRefusing_InstancesCold_FleetBacksOffAsOne()
    {
        await using var gateway = await StartGatewayAsync(s_longLifetime);
        gateway.TokenFaultRule = _ => EmulatorFault.InvalidClient();
        await using var fleet = await FleetRun.StartAsync(gateway, new FleetOptions
        {
            Instances = 4,
            Workers = 4,
            Redis = _redis.Configuration,
            Duration = TimeSpan.FromSeconds(3),
        });

        await fleet.GoAsync();
        var summaries = await fleet.WaitForSummariesAsync();

        // Alone, each instance would send about 3 in 3 s (at once, after 1 s, after 2 s more): 12 for the fleet.
        Assert.Multiple(() =>
        {
            Assert.That(gateway.TokenRequestCount, Is.LessThanOrEqualTo(5), fleet.Logs());
            Assert.That(summaries.Select(s => s.Successes), Is.All.Zero);
            Assert.That(summaries.Select(s => s.Failures.Keys), Is.All.EquivalentTo(new[] { nameof(RapidSosAuthenticationException) }), "the refusal, shared or not, is what every caller sees");
        });
    }

    [Test]
    public async Task RedisKilledMidRun_NoCallFails_AndSharingResumesAfterTheRestart()
    {
        await using var gateway = await StartGatewayAsync(s_shortLifetime);
        await using var fleet = await FleetRun.StartAsync(gateway, new FleetOptions { Instances = 3, Workers = 4, Redis = _redis.Configuration });
        await fleet.GoAsync();
        await fleet.WhenAllSucceededOnceAsync();

        // The scenario's timeline, not waits for a condition: 2 s shared, 3 s without Redis, then Redis is back.
        await Task.Delay(TimeSpan.FromSeconds(2));
        await _redis.KillAsync();
        await fleet.MarkAsync("redis killed");
        await Task.Delay(TimeSpan.FromSeconds(3));
        await _redis.StartAgainAsync();
        var restarted = await fleet.MarkAsync("redis back");

        // Sharing resumes by itself: an instance takes a token another fetched into the restarted (empty) Redis...
        await Poll.UntilAsync(
            () => fleet.Instances.Sum(i => i.Latest?.SharedTokens ?? 0) > restarted.Reports.Values.Sum(r => r.SharedTokens),
            "an instance to take a token another fetched after the restart");

        // ...and from then on the fleet needs what one instance alone would: three refresh periods of load.
        var resumed = await fleet.MarkAsync("sharing resumed");
        await Task.Delay(s_shortLifetime * 0.8 * 3);
        var end = await fleet.MarkAsync("end");
        var summaries = await fleet.StopAsync();

        var phase = System.Diagnostics.Stopwatch.GetElapsedTime(resumed.Timestamp, end.Timestamp);
        var bound = FleetBounds.SingleInstanceTokenRequests(phase, s_shortLifetime);
        Assert.Multiple(() =>
        {
            Assert.That(summaries.Select(s => s.FailedCalls), Is.All.Zero, fleet.Logs());
            Assert.That(summaries.Select(s => s.SharedStoreErrors).Sum(), Is.Positive, "the outage was seen");
            Assert.That(end.TokenRequests - resumed.TokenRequests, Is.LessThanOrEqualTo(bound + 2), $"one instance alone would need at most {bound} in {phase.TotalSeconds:0.0} s{Environment.NewLine}{fleet.Logs()}");
        });
    }

    private static Task<RapidSosGatewayEmulator> StartGatewayAsync(TimeSpan lifetime) =>
        RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions { TokenLifetime = lifetime, MaxRecordedRequests = 0 });

    private static async Task<SustainedRun> RunSustainedAsync(string? redis)
    {
        await using var gateway = await StartGatewayAsync(s_shortLifetime);
        await using var fleet = await FleetRun.StartAsync(gateway, new FleetOptions
        {
            Instances = 3,
            Workers = 4,
            Redis = redis,
            Duration = TimeSpan.FromSeconds(8),
        });

        await fleet.GoAsync();
        var summaries = await fleet.WaitForSummariesAsync();
        return new SustainedRun(gateway.TokenRequestCount, TimeSpan.FromSeconds(summaries.Max(s => s.ElapsedSeconds)), summaries, fleet.Logs());
    }

    private sealed record SustainedRun(int TokenRequests, TimeSpan Duration, IReadOnlyList<FleetInstanceReport> Summaries, string Logs);
}
