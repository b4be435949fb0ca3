namespace RapidSos.Http.Auth.SoakTests;

/// <summary>
/// The CI soak: 20 s of 64 workers against the gateway emulator with token faults and revocations (see
/// <see cref="SoakEngine"/>). Its own category, so a run can pick it (<c>--filter TestCategory=Soak</c>) or leave it out
/// (<c>--filter TestCategory!=Soak</c>). Bounded three times over: the engine stops by itself after the duration plus
/// at most its drain timeout, a hung call is cancelled there, and NUnit cancels the whole test after three minutes.
/// </summary>
[TestFixture]
[Category("Soak")]
[NonParallelizable]
public sealed class SoakTests
{
    [Test]
    [CancelAfter(180_000)]
    public async Task Soak_64WorkersWithTokenFaultsRevocationsAndARefusal_NoUnexplainedFailureNoFanOutNoHammeringBodiesIntactNoGrowth(CancellationToken cancellationToken)
    {
        var options = new SoakOptions { Duration = TimeSpan.FromSeconds(20), Workers = 64 };

        var report = await SoakEngine.RunAsync(options, TestContext.Progress, cancellationToken);

        var text = report.Format();
        await TestContext.Out.WriteLineAsync(text);
        await File.WriteAllTextAsync(Path.Combine(TestContext.CurrentContext.WorkDirectory, "soak-report.txt"), text, CancellationToken.None);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(report.Requests, Is.GreaterThan(0), "requests");
            Assert.That(report.UnexplainedFailures, Is.Empty, "caller-visible failures while a valid token could be obtained");
            Assert.That(report.TokenRequestsOutsideRefusal, Is.LessThanOrEqualTo(report.TokenRequestBound), "token requests outside the refusal phase (no fan-out)");
            Assert.That(report.Refusal, Is.Not.Null, "the refusal phase ran");
            Assert.That(report.Refusal?.TokenRequests ?? 0, Is.LessThanOrEqualTo(report.Refusal?.Bound ?? 0), "token requests during the refusal phase (at most one per second, plus one)");
            Assert.That(report.Refusal?.RecoveryHeld, Is.True, "a call succeeded soon after the refusal ended");
            Assert.That(report.MaxConcurrentTokenRequests, Is.LessThanOrEqualTo(1), "token requests on the wire at once");
            Assert.That(report.BodiesCorrupted + report.BodiesStray + report.BodyArrivalViolations, Is.Zero, "POST bodies damaged, stray or arriving the wrong number of times");
            Assert.That(report.Samples.Max(s => s.CacheEntries) ?? 0, Is.LessThanOrEqualTo(SoakChecks.MaxCacheEntries), "token cache entries");
            Assert.That(report.Violations, Is.Empty, text);
        }
    }
}
