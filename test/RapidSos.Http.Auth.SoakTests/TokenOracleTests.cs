using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace RapidSos.Http.Auth.SoakTests;

/// <summary>
/// The oracle's fail-fast rule on its own, without the library: token answers go through the <see cref="TokenOracle.Tap"/>
/// from a stub, and the failure moments are given as timestamps, so no test waits. The soak itself can exercise the
/// rule only against a library that fails fast.
/// </summary>
[TestFixture]
[Category("Soak")]
public sealed class TokenOracleTests
{
    private static readonly long s_second = Stopwatch.Frequency;

    [Test]
    public async Task Refused_NoValidToken_FailFastAcceptableWithinSixSecondsOnly()
    {
        var oracle = new TokenOracle(Stopwatch.GetTimestamp());
        var start = await Answer(oracle, HttpStatusCode.Unauthorized);
        var latest = oracle.LatestRequest;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(oracle.ExplainsFailFast(tokenValidAtStart: false, latest, start + s_second, out var kind), Is.True);
            Assert.That(kind, Is.EqualTo("401 fail-fast"));
            Assert.That(oracle.ExplainsFailFast(false, latest, start + (5 * s_second), out _), Is.True, "within 5 s * 1.1 + 0.5 s");
            Assert.That(oracle.ExplainsFailFast(false, latest, start + (7 * s_second), out _), Is.False, "past the window");
            Assert.That(oracle.ExplainsFailFast(tokenValidAtStart: true, latest, start + s_second, out _), Is.False, "a valid token existed");
        }
    }

    [TestCase(HttpStatusCode.BadRequest, true)]
    [TestCase(HttpStatusCode.Forbidden, true)]
    [TestCase(HttpStatusCode.NotFound, true)]
    [TestCase(HttpStatusCode.RequestTimeout, false)]
    [TestCase(HttpStatusCode.TooManyRequests, false)]
    [TestCase(HttpStatusCode.InternalServerError, false)]
    [TestCase(HttpStatusCode.ServiceUnavailable, false)]
    public async Task Status_WithoutRetryAfter_FailFastOnlyWhenRefused(HttpStatusCode status, bool refused)
    {
        var oracle = new TokenOracle(Stopwatch.GetTimestamp());
        var start = await Answer(oracle, status);

        Assert.That(oracle.ExplainsFailFast(false, oracle.LatestRequest, start + (s_second / 2), out _), Is.EqualTo(refused));
    }

    [TestCase(HttpStatusCode.TooManyRequests)]
    [TestCase(HttpStatusCode.ServiceUnavailable)]
    public async Task RetryAfter_FailFastWithinRetryAfterPlusJitterAndSlack(HttpStatusCode status)
    {
        var oracle = new TokenOracle(Stopwatch.GetTimestamp());
        var start = await Answer(oracle, status, retryAfter: TimeSpan.FromSeconds(2));
        var latest = oracle.LatestRequest;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(oracle.ExplainsFailFast(false, latest, start + (2 * s_second), out var kind), Is.True);
            Assert.That(kind, Does.StartWith($"{(int)status} Retry-After 2 s"));
            Assert.That(oracle.ExplainsFailFast(false, latest, start + (3 * s_second), out _), Is.False, "past 2 s * 1.1 + 0.5 s");
        }
    }

    [Test]
    public async Task RetryAfter_CappedAtSixtySeconds()
    {
        var oracle = new TokenOracle(Stopwatch.GetTimestamp());
        var start = await Answer(oracle, HttpStatusCode.TooManyRequests, retryAfter: TimeSpan.FromMinutes(10));
        var latest = oracle.LatestRequest;

        using (Assert.EnterMultipleScope())
        {
            Assert.That(oracle.ExplainsFailFast(false, latest, start + (66 * s_second), out _), Is.True);
            Assert.That(oracle.ExplainsFailFast(false, latest, start + (67 * s_second), out _), Is.False);
        }
    }

    [Test]
    public async Task LatestRequestSucceeded_NoFailFast()
    {
        var oracle = new TokenOracle(Stopwatch.GetTimestamp());
        await Answer(oracle, HttpStatusCode.Unauthorized);
        var start = await Answer(oracle, HttpStatusCode.OK);

        Assert.That(oracle.ExplainsFailFast(false, oracle.LatestRequest, start + (s_second / 2), out var kind), Is.False);
        Assert.That(kind, Is.EqualTo("last token request issued a token"));
    }

    [Test]
    public async Task RefusalAfterTheCallStarted_TheRequestAtTheStartDecides()
    {
        var oracle = new TokenOracle(Stopwatch.GetTimestamp());
        var start = await Answer(oracle, HttpStatusCode.Unauthorized);
        var atStart = oracle.LatestRequest;
        await Answer(oracle, HttpStatusCode.OK);

        // A call that started in the refused window and failed there: a token issued to a later request (sent after
        // the library had failed it, before its worker read the clock) does not make it unexplained.
        Assert.That(oracle.ExplainsFailFast(false, atStart, start + (s_second / 2), out _), Is.True);
    }

    [Test]
    public void NoTokenRequestYet_NoFailFast()
    {
        var oracle = new TokenOracle(Stopwatch.GetTimestamp());

        Assert.That(oracle.ExplainsFailFast(false, oracle.LatestRequest, Stopwatch.GetTimestamp(), out var kind), Is.False);
        Assert.That(kind, Is.EqualTo("no token request yet"));
    }

    /// <summary>Sends one token request through the tap, answered <paramref name="status"/>; returns a moment just after the tap saw the answer.</summary>
    private static async Task<long> Answer(TokenOracle oracle, HttpStatusCode status, TimeSpan? retryAfter = null)
    {
        using var invoker = new HttpMessageInvoker(new TokenOracle.Tap(oracle) { InnerHandler = new Stub(status, retryAfter) });
        using var request = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1/oauth/token");
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        return Stopwatch.GetTimestamp();
    }

    private sealed class Stub(HttpStatusCode status, TimeSpan? retryAfter) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = status == HttpStatusCode.OK
                ? """{"access_token":"t","expires_in":"2"}"""
                : """{"ErrorCode":"invalid_client","Error":"Client credentials are invalid"}""";
            var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            if (retryAfter is { } delay)
            {
                response.Headers.RetryAfter = new RetryConditionHeaderValue(delay);
            }

            return Task.FromResult(response);
        }
    }
}
