using System.Net;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

public class TokenRetryRulesTests
{
    private const double NoJitter = 0.5; // the midpoint: a factor of exactly 1 for spread delays

    // attempt, kind, Retry-After (s), time left on the token (s, -1 = no valid token), expected delay (ms)
    [TestCase(1, "Refused", null, -1, 1000, TestName = "NextAttemptDelay_Refused1_OneSecond")]
    [TestCase(2, "Refused", null, -1, 2000, TestName = "NextAttemptDelay_Refused2_TwoSeconds")]
    [TestCase(3, "Refused", null, -1, 4000, TestName = "NextAttemptDelay_Refused3_FourSeconds")]
    [TestCase(4, "Refused", null, -1, 5000, TestName = "NextAttemptDelay_Refused4_CappedAtFiveSeconds")]
    [TestCase(40, "Refused", null, -1, 5000, TestName = "NextAttemptDelay_Refused40_CappedAtFiveSeconds")]
    [TestCase(1, "RateLimited", 2.0, -1, 2000, TestName = "NextAttemptDelay_RateLimited_NotBeforeRetryAfter")]
    [TestCase(5, "RateLimited", 2.0, -1, 2000, TestName = "NextAttemptDelay_RateLimitedAgain_StillRetryAfter")]
    [TestCase(1, "RateLimited", 3600.0, -1, 60000, TestName = "NextAttemptDelay_RateLimitedHugeRetryAfter_CappedAtSixtySeconds")]
    [TestCase(1, "Transient", null, -1, 0, TestName = "NextAttemptDelay_Transient1_AtOnce")]
    [TestCase(2, "Transient", null, -1, 250, TestName = "NextAttemptDelay_Transient2_250ms")]
    [TestCase(3, "Transient", null, -1, 500, TestName = "NextAttemptDelay_Transient3_500ms")]
    [TestCase(4, "Transient", null, -1, 1000, TestName = "NextAttemptDelay_Transient4_1s")]
    [TestCase(6, "Transient", null, -1, 4000, TestName = "NextAttemptDelay_Transient6_4s")]
    [TestCase(7, "Transient", null, -1, 5000, TestName = "NextAttemptDelay_Transient7_CappedAtFiveSeconds")]
    [TestCase(1, "Transient", null, 300, 1000, TestName = "NextAttemptDelay_BackgroundRefresh1_OneSecond")]
    [TestCase(4, "Refused", null, 300, 8000, TestName = "NextAttemptDelay_BackgroundRefresh4_EightSeconds")]
    [TestCase(9, "Transient", null, 300, 30000, TestName = "NextAttemptDelay_BackgroundRefresh9_CappedAtThirtySeconds")]
    [TestCase(1, "RateLimited", 120.0, 300, 120000, TestName = "NextAttemptDelay_BackgroundRefresh_HonoursRetryAfterInFull")]
    [TestCase(1, "RateLimited", 3600.0, 299, 149500, TestName = "NextAttemptDelay_BackgroundRefresh_NeverPastHalfTheTimeLeft")]
    [TestCase(9, "Transient", null, 0.1, 100, TestName = "NextAttemptDelay_BackgroundRefreshAlmostExpired_AtLeast100ms")]
    public void NextAttemptDelay_Table(int attempt, string kindName, double? retryAfterSeconds, double timeLeftSeconds, int expectedMilliseconds)
    {
        var kind = Enum.Parse<TokenFailureKind>(kindName);
        var delay = TokenRetryRules.NextAttemptDelay(
            attempt,
            kind,
            retryAfterSeconds is { } ra ? TimeSpan.FromSeconds(ra) : null,
            timeLeftSeconds < 0 ? null : TimeSpan.FromSeconds(timeLeftSeconds),
            kind == TokenFailureKind.RateLimited ? 0 : NoJitter);

        Assert.That(delay.TotalMilliseconds, Is.EqualTo(expectedMilliseconds).Within(0.001));
    }

    [TestCase("Refused", 2)]
    [TestCase("Transient", 3)]
    public void NextAttemptDelay_Jitter_SpreadsByAtMostTenPercentEitherWay(string kindName, int attempt)
    {
        var kind = Enum.Parse<TokenFailureKind>(kindName);
        var low = TokenRetryRules.NextAttemptDelay(attempt, kind, null, null, 0);
        var mid = TokenRetryRules.NextAttemptDelay(attempt, kind, null, null, NoJitter);
        var high = TokenRetryRules.NextAttemptDelay(attempt, kind, null, null, 0.999999);

        Assert.That(low, Is.EqualTo(mid * 0.9));
        Assert.That(high.TotalMilliseconds, Is.EqualTo((mid * 1.1).TotalMilliseconds).Within(0.01));
    }

    [Test]
    public void NextAttemptDelay_RetryAfterWithJitter_NeverSooner()
    {
        var retryAfter = TimeSpan.FromSeconds(2);
        foreach (var jitter in new[] { 0, 0.25, 0.5, 0.999 })
        {
            var delay = TokenRetryRules.NextAttemptDelay(1, TokenFailureKind.RateLimited, retryAfter, null, jitter);
            Assert.That(delay, Is.GreaterThanOrEqualTo(retryAfter).And.LessThanOrEqualTo(retryAfter * 1.1));
        }
    }

    [TestCase(double.NaN)]
    [TestCase(-3.0)]
    [TestCase(7.0)]
    public void NextAttemptDelay_JitterOutOfRange_IsClamped(double jitter) =>
        Assert.That(
            TokenRetryRules.NextAttemptDelay(1, TokenFailureKind.Refused, null, null, jitter),
            Is.InRange(TimeSpan.FromMilliseconds(900), TimeSpan.FromMilliseconds(1100)));

    [TestCase(1, 1000)]
    [TestCase(2, 2000)]
    [TestCase(5, 16000)]
    [TestCase(6, 30000)]
    [TestCase(100, 30000)]
    public void ReplacementDelay_DoublesFromOneSecondToThirty(int strikes, int expectedMilliseconds) =>
        Assert.That(TokenRetryRules.ReplacementDelay(strikes, NoJitter).TotalMilliseconds, Is.EqualTo(expectedMilliseconds).Within(0.001));

    [TestCase(HttpStatusCode.BadRequest, null, "Refused")]
    [TestCase(HttpStatusCode.Unauthorized, null, "Refused")]
    [TestCase(HttpStatusCode.Forbidden, null, "Refused")]
    [TestCase(HttpStatusCode.NotFound, null, "Refused")]
    [TestCase(HttpStatusCode.RequestTimeout, null, "Transient")]
    [TestCase(HttpStatusCode.TooManyRequests, null, "Transient")]
    [TestCase(HttpStatusCode.TooManyRequests, 2.0, "RateLimited")]
    [TestCase(HttpStatusCode.TooManyRequests, 0.0, "Transient")]
    [TestCase(HttpStatusCode.ServiceUnavailable, 5.0, "RateLimited")]
    [TestCase(HttpStatusCode.ServiceUnavailable, null, "Transient")]
    [TestCase(HttpStatusCode.InternalServerError, null, "Transient")]
    [TestCase(HttpStatusCode.BadGateway, null, "Transient")]
    [TestCase(HttpStatusCode.OK, null, "Transient")]
    public void Classify_ByStatusAndRetryAfter(HttpStatusCode status, double? retryAfterSeconds, string expected)
    {
        var failure = new RapidSosAuthenticationException("x", null, status, null, null)
        {
            RetryAfter = retryAfterSeconds is { } ra ? TimeSpan.FromSeconds(ra) : null,
        };

        Assert.That(TokenRetryRules.Classify(failure).ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void Classify_NetworkFailureWithoutStatus_IsTransient() =>
        Assert.That(TokenRetryRules.Classify(new RapidSosAuthenticationException("reset", new HttpRequestException("reset"))), Is.EqualTo(TokenFailureKind.Transient));
}
