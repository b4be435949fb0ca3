using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests;

public class RapidSosResilienceTests
{
    private static readonly Uri s_endpoint = new("https://api.test.example/oauth/token");

    /// <summary>The table: an outcome, and whether another attempt may succeed.</summary>
    public static IEnumerable<TestCaseData> Outcomes()
    {
        // Token failures that may pass.
        yield return Case("token endpoint unreachable", Token(null, inner: new HttpRequestException("Connection refused")), null, true);
        yield return Case("token request timed out", Token(null, inner: new TaskCanceledException()), null, true);
        yield return Case("token response malformed", Token(HttpStatusCode.OK), null, true);
        yield return Case("token endpoint 500", Token(HttpStatusCode.InternalServerError), null, true);
        yield return Case("token endpoint 502", Token(HttpStatusCode.BadGateway), null, true);
        yield return Case("token endpoint 503 with Retry-After", Token(HttpStatusCode.ServiceUnavailable, retryAfter: TimeSpan.FromSeconds(5)), null, true);
        yield return Case("token endpoint 408", Token(HttpStatusCode.RequestTimeout), null, true);
        yield return Case("token endpoint 429", Token(HttpStatusCode.TooManyRequests), null, true);
        yield return Case("token endpoint 429 with Retry-After", Token(HttpStatusCode.TooManyRequests, retryAfter: TimeSpan.FromSeconds(2)), null, true);

        // Refused credentials: no retry can fix them.
        yield return Case("token endpoint 400", Token(HttpStatusCode.BadRequest), null, false);
        yield return Case("token endpoint 401 invalid_client", Token(HttpStatusCode.Unauthorized), null, false);
        yield return Case("token endpoint 403", Token(HttpStatusCode.Forbidden), null, false);
        yield return Case("token endpoint 404", Token(HttpStatusCode.NotFound), null, false);

        // Wrapped: what the token failure says decides, not the wrapper's type.
        yield return Case("refusal wrapped in HttpRequestException", new HttpRequestException("wrapped", Token(HttpStatusCode.Unauthorized)), null, false);
        yield return Case("500 wrapped in InvalidOperationException", new InvalidOperationException("wrapped", Token(HttpStatusCode.InternalServerError)), null, true);

        // Transport and timeouts, as HttpClientResiliencePredicates says.
        yield return Case("transport failure", new HttpRequestException("Connection reset"), null, true);
        yield return Case("HttpRequestException with a status", new HttpRequestException("Response status code does not indicate success: 404.", null, HttpStatusCode.NotFound), null, true);
        yield return Case("attempt timeout (Polly)", new TimeoutRejectedException(), null, true);
        yield return Case("HttpClient.Timeout", new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout.", new TimeoutException()), null, true);

        // Not transient.
        yield return Case("caller cancelled", new TaskCanceledException(), null, false);
        yield return Case("operation cancelled", new OperationCanceledException(), null, false);
        yield return Case("circuit open (Polly)", new BrokenCircuitException(), null, false);
        yield return Case("origin not allowed", new InvalidOperationException("not sent"), null, false);
        yield return Case("options invalid", new OptionsValidationException("", typeof(RapidSosAuthOptions), ["ClientId is required."]), null, false);
        yield return Case("container disposed", new ObjectDisposedException("RapidSos.Http.Auth"), null, false);

        // API responses, as HttpClientResiliencePredicates says.
        yield return Case("API 200", null, HttpStatusCode.OK, false);
        yield return Case("API 400", null, HttpStatusCode.BadRequest, false);
        yield return Case("API 401 after the resend", null, HttpStatusCode.Unauthorized, false);
        yield return Case("API 403", null, HttpStatusCode.Forbidden, false);
        yield return Case("API 404", null, HttpStatusCode.NotFound, false);
        yield return Case("API 408", null, HttpStatusCode.RequestTimeout, true);
        yield return Case("API 429", null, HttpStatusCode.TooManyRequests, true);
        yield return Case("API 500", null, HttpStatusCode.InternalServerError, true);
        yield return Case("API 503", null, HttpStatusCode.ServiceUnavailable, true);
        yield return Case("API 599", null, (HttpStatusCode)599, true);

        yield return Case("neither", null, null, false);
        yield return Case("exception decides over a response", Token(HttpStatusCode.Unauthorized), HttpStatusCode.ServiceUnavailable, false);
    }

    [TestCaseSource(nameof(Outcomes))]
    public void IsTransient_Outcome_AsTheTableSays(Exception? exception, HttpStatusCode? status, bool expected)
    {
        using var response = status is { } s ? new HttpResponseMessage(s) : null;

        Assert.That(RapidSosResilience.IsTransient(exception, response), Is.EqualTo(expected));
    }

    /// <summary>Outside RapidSOS token failures, the predicate is a drop-in for the standard handler's own.</summary>
    [TestCaseSource(nameof(Outcomes))]
    public void IsTransient_NoTokenFailure_AgreesWithHttpClientResiliencePredicates(Exception? exception, HttpStatusCode? status, bool expected)
    {
        _ = expected;
        if (Contains<RapidSosAuthenticationException>(exception) || exception is OperationCanceledException { InnerException: TimeoutException })
        {
            // Ours decide token failures; an HttpClient.Timeout is transient to the standard handler's experimental overload too.
            Assert.Pass("decided by the RapidSOS token failure, or beyond the standard predicate");
        }

        using var response = status is { } s ? new HttpResponseMessage(s) : null;
        var outcome = exception is not null ? Outcome.FromException<HttpResponseMessage>(exception) : Outcome.FromResult(response!);
        if (exception is null && response is null)
        {
            Assert.That(RapidSosResilience.IsTransient(null, null), Is.False);
            return;
        }

        Assert.That(RapidSosResilience.IsTransient(exception, response), Is.EqualTo(HttpClientResiliencePredicates.IsTransient(outcome)));
    }

    [Test]
    public void IsTransient_CallerInsideRateLimitWindow_FalseUntilTheWindowCloses()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (_, _) => TooManyRequests(TimeSpan.FromSeconds(2));

        var sent = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        var failedFast = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        h.Time.Advance(TimeSpan.FromSeconds(3));
        var sentAgain = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2), "the second caller failed fast, without a request");
        Assert.That(RapidSosResilience.IsTransient(sent, null), Is.True, "the gateway's 429: a retry after Retry-After may pass");
        Assert.That(RapidSosResilience.IsTransient(failedFast, null), Is.False, "inside the window another attempt fails the same way at once");
        Assert.That(RapidSosResilience.IsTransient(sentAgain, null), Is.True);
    }

    [Test]
    public void IsTransient_RefusedCredentials_FalseForTheCallerWhoSentAndForThoseInsideTheWindow()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.Unauthorized, """{"ErrorCode":"invalid_client","Error":"Client credentials are invalid"}""");

        var sent = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());
        var failedFast = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
        Assert.That(RapidSosResilience.IsTransient(sent, null), Is.False);
        Assert.That(RapidSosResilience.IsTransient(failedFast, null), Is.False);
    }

    [Test]
    public void IsTransient_TransientTokenFailure_TrueForEveryCaller()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.InternalServerError, """{"detail":"Internal Server Error"}""");

        var first = Assert.ThrowsAsync<RapidSosAuthenticationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(RapidSosResilience.IsTransient(first, null), Is.True, "a 5xx of the token endpoint may pass");
    }

    private static TestCaseData Case(string name, Exception? exception, HttpStatusCode? status, bool expected) =>
        new TestCaseData(exception, status, expected).SetArgDisplayNames(name);

    private static RapidSosAuthenticationException Token(HttpStatusCode? status, TimeSpan? retryAfter = null, Exception? inner = null) =>
        new("The RapidSOS token request failed.", inner, status, detail: null, s_endpoint) { RetryAfter = retryAfter };

    private static HttpResponseMessage TooManyRequests(TimeSpan retryAfter)
    {
        var response = StubTokenEndpoint.Json(HttpStatusCode.TooManyRequests, """{"detail":"Too many requests. Please try again later"}""");
        response.Headers.RetryAfter = new RetryConditionHeaderValue(retryAfter);
        return response;
    }

    private static bool Contains<T>(Exception? exception)
        where T : Exception
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is T)
            {
                return true;
            }
        }

        return false;
    }
}
