using System.Net;
using System.Text.Json;

namespace RapidSos.Http.Auth.Testing.Tests;

[TestFixture(EmulatorHosting.Kestrel)]
[TestFixture(EmulatorHosting.InMemory)]
public sealed class FaultInjectionTests : EmulatorTestBase
{
    public FaultInjectionTests(EmulatorHosting hosting)
        : base(hosting)
    {
    }

    public static IEnumerable<TestCaseData> AnsweringFaults()
    {
        yield return new TestCaseData(EmulatorFault.Status(418, "short and stout", "text/plain"), 418, "text/plain", "short and stout")
            .SetArgDisplayNames("Status");
        yield return new TestCaseData(EmulatorFault.Status(500, null), 500, null, string.Empty)
            .SetArgDisplayNames("StatusWithoutBody");
        yield return new TestCaseData(EmulatorFault.Detail(500, "Internal server error"), 500, "application/json", "{\"detail\":\"Internal server error\"}")
            .SetArgDisplayNames("Detail");
        yield return new TestCaseData(EmulatorFault.InvalidClient(), 401, "application/json", "{\"ErrorCode\":\"invalid_client\",\"Error\":\"Client credentials are invalid\"}")
            .SetArgDisplayNames("InvalidClient");
        yield return new TestCaseData(EmulatorFault.TooManyRequests(), 429, "application/json", "{\"detail\":\"Too many requests. Please try again later\"}")
            .SetArgDisplayNames("TooManyRequests");
        yield return new TestCaseData(
                EmulatorFault.Fault(429, "Spike arrest violation. Allowed rate : 10ps", "policies.ratelimit.SpikeArrestViolation"),
                429,
                "application/json",
                "{\"fault\":{\"faultstring\":\"Spike arrest violation. Allowed rate : 10ps\",\"detail\":{\"errorcode\":\"policies.ratelimit.SpikeArrestViolation\"}}}")
            .SetArgDisplayNames("Fault");
        yield return new TestCaseData(EmulatorFault.OAuthError(400, "invalid_grant", "Grant expired"), 400, "application/json", "{\"error\":\"invalid_grant\",\"error_description\":\"Grant expired\"}")
            .SetArgDisplayNames("OAuthError");
        yield return new TestCaseData(EmulatorFault.OAuthError(401, "invalid_client"), 401, "application/json", "{\"error\":\"invalid_client\"}")
            .SetArgDisplayNames("OAuthErrorWithoutDescription");
        yield return new TestCaseData(EmulatorFault.Empty(503), 503, null, string.Empty)
            .SetArgDisplayNames("Empty");
    }

    [TestCaseSource(nameof(AnsweringFaults))]
    public async Task EnqueueFault_AnsweringFault_NextTokenRequestGetsItThenNormalAnswer(
        EmulatorFault fault, int expectedStatus, string? expectedMediaType, string expectedBody)
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(fault);

        using var faulted = await client.PostAsync("oauth/token", ClientCredentialsForm());
        var body = await faulted.Content.ReadAsStringAsync();
        using var next = await client.PostAsync("oauth/token", ClientCredentialsForm());

        Assert.Multiple(() =>
        {
            Assert.That((int)faulted.StatusCode, Is.EqualTo(expectedStatus));
            Assert.That(faulted.Content.Headers.ContentType?.MediaType, Is.EqualTo(expectedMediaType));
            Assert.That(body, Is.EqualTo(expectedBody));
            Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(emulator.TokenRequestCount, Is.EqualTo(2));
            Assert.That(emulator.SuccessfulTokenRequestCount, Is.EqualTo(1));
            Assert.That(emulator.TokenRequests.Select(r => r.StatusCode), Is.EqualTo(new[] { expectedStatus, 200 }));
        });
    }

    [Test]
    public async Task EnqueueFault_AnsweringFault_ReplacesAnswerEvenForBadCredentials()
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.Detail(503, "Service unavailable"));

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm(clientSecret: "wrong"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
    }

    [Test]
    public async Task EnqueueFault_TooManyRequestsWithRetryAfter_SendsRetryAfterInWholeSeconds()
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.TooManyRequests(TimeSpan.FromSeconds(1.2)));

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm());

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(2)));
        });
    }

    [Test]
    public async Task EnqueueFault_WithRetryAfter_SendsStatusBodyAndRetryAfterInWholeSeconds()
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.Detail(503, "Service unavailable").WithRetryAfter(TimeSpan.FromSeconds(1.2)));

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm());

        Assert.Multiple(async () =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("{\"detail\":\"Service unavailable\"}"));
            Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(2)));
        });
    }

    [Test]
    public async Task EnqueueFault_TooManyRequestsWithRetryAfterTwice_SendsOnlyTheLastRetryAfter()
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.TooManyRequests(TimeSpan.FromSeconds(30)).WithRetryAfter(TimeSpan.FromSeconds(3)));

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm());

        Assert.That(response.Headers.GetValues("Retry-After"), Is.EqualTo(new[] { "3" }));
    }

    [TestCase(502, "502 Bad Gateway")]
    [TestCase(503, "503 Service Unavailable")]
    public async Task EnqueueFault_Html_AnswersHtmlPage(int status, string title)
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.Html(status));

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm());
        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That((int)response.StatusCode, Is.EqualTo(status));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/html"));
            Assert.That(body, Does.StartWith("<!DOCTYPE html>").And.Contain($"<title>{title}</title>"));
        });
    }

    [Test]
    public async Task EnqueueFault_MalformedJson_Answers200WithUnparsableJsonAndIssuesNoToken()
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.MalformedJson());

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm());
        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
            Assert.That(() => JsonDocument.Parse(body), Throws.InstanceOf<JsonException>());
            Assert.That(emulator.SuccessfulTokenRequestCount, Is.Zero);
            Assert.That(emulator.IssuedTokens, Is.Empty);
        });
    }

    [Test]
    public async Task EnqueueFault_ConnectionReset_ClientGetsHttpRequestExceptionThenRecovers()
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.ConnectionReset());

        var exception = Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync("oauth/token", ClientCredentialsForm()));
        using var next = await client.PostAsync("oauth/token", ClientCredentialsForm());

        Assert.Multiple(() =>
        {
            Assert.That(exception!.InnerException, Is.InstanceOf<IOException>());
            Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(emulator.TokenRequests.Select(r => r.StatusCode), Is.EqualTo(new[] { 0, 200 }));
        });
    }

    [Test]
    public async Task EnqueueFault_SeveralFaults_AppliedInOrderOnePerRequest()
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.Empty(500));
        emulator.EnqueueFault(EmulatorFault.TooManyRequests());
        emulator.EnqueueFault(EmulatorFault.Html(502));

        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.PostAsync("oauth/token", ClientCredentialsForm());
            statuses.Add((int)response.StatusCode);
        }

        Assert.That(statuses, Is.EqualTo(new[] { 500, 429, 502, 200 }));
    }

    [TestCase(false, TestName = "{m}(form)")]
    [TestCase(true, TestName = "{m}(Basic)")]
    public async Task EnqueueFault_ForOneClient_OnlyThatClientsNextTokenRequestGetsIt(bool basicHeader)
    {
        var (emulator, client) = await StartAsync();
        emulator.AddClient("agency-b", "secret-b");
        emulator.EnqueueFault("agency-b", EmulatorFault.TooManyRequests());

        using var otherClient = await client.PostAsync("oauth/token", ClientCredentialsForm());
        using var faulted = basicHeader
            ? await PostBasicTokenRequestAsync(client, "agency-b", "secret-b")
            : await client.PostAsync("oauth/token", ClientCredentialsForm("agency-b", "secret-b"));
        using var next = await client.PostAsync("oauth/token", ClientCredentialsForm("agency-b", "secret-b"));

        Assert.Multiple(() =>
        {
            Assert.That(otherClient.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(faulted.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task EnqueueFault_ForClientAndForAny_ClientsOwnQueueFirstThenTheSharedOne()
    {
        var (emulator, client) = await StartAsync();
        emulator.AddClient("agency-b", "secret-b");
        emulator.EnqueueFault(EmulatorFault.Detail(503, "shared"));
        emulator.EnqueueFault("agency-b", EmulatorFault.TooManyRequests());
        emulator.EnqueueFault("agency-b", EmulatorFault.Html(502));

        var statuses = new List<(string Client, HttpStatusCode Status)>();
        foreach (var (id, secret) in new[] { ("agency-b", "secret-b"), (ClientId, ClientSecret), ("agency-b", "secret-b"), ("agency-b", "secret-b") })
        {
            using var response = await client.PostAsync("oauth/token", ClientCredentialsForm(id, secret));
            statuses.Add((id, response.StatusCode));
        }

        Assert.That(statuses, Is.EqualTo(new[]
        {
            ("agency-b", HttpStatusCode.TooManyRequests),
            (ClientId, HttpStatusCode.ServiceUnavailable),
            ("agency-b", HttpStatusCode.BadGateway),
            ("agency-b", HttpStatusCode.OK),
        }));
    }

    [Test]
    public async Task EnqueueFault_ForClient_TokenFaultRuleAskedOnlyWhenItsQueueIsEmpty()
    {
        var (emulator, client) = await StartAsync();
        var asked = 0;
        emulator.TokenFaultRule = _ =>
        {
            Interlocked.Increment(ref asked);
            return null;
        };
        emulator.EnqueueFault(ClientId, EmulatorFault.Empty(500));

        using var faulted = await client.PostAsync("oauth/token", ClientCredentialsForm());
        using var normal = await client.PostAsync("oauth/token", ClientCredentialsForm());

        Assert.Multiple(() =>
        {
            Assert.That(faulted.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
            Assert.That(normal.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(asked, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task EnqueueFault_Stall_WaitsThenAnswersNormally()
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.Stall(TimeSpan.FromMilliseconds(20)));

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm());

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(emulator.SuccessfulTokenRequestCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task EnqueueFault_InfiniteStallCancelledByClient_RequestIsCancelledAndEmulatorStopsWaiting()
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.Stall(Timeout.InfiniteTimeSpan));
        using var cancellation = new CancellationTokenSource();

        var request = client.PostAsync("oauth/token", ClientCredentialsForm(), cancellation.Token);
        await Poll.UntilAsync(() => emulator.TokenRequestCount == 1, "the token request to reach the emulator");
        await cancellation.CancelAsync();

        Assert.That(async () => await request, Throws.InstanceOf<OperationCanceledException>());
        await Poll.UntilAsync(() => emulator.Requests.Count == 1, "the aborted request to be recorded");
        Assert.That(emulator.Requests.Single().StatusCode, Is.Zero, "the stalled request ended without an answer");
    }

    [Test]
    public async Task TokenLatency_RequestCancelledDuringLatency_IsCancelled()
    {
        var (emulator, client) = await StartAsync();
        emulator.TokenLatency = TimeSpan.FromHours(1);
        using var cancellation = new CancellationTokenSource();

        var request = client.PostAsync("oauth/token", ClientCredentialsForm(), cancellation.Token);
        await Poll.UntilAsync(() => emulator.TokenRequestCount == 1, "the token request to reach the emulator");
        await cancellation.CancelAsync();

        Assert.That(async () => await request, Throws.InstanceOf<OperationCanceledException>());
        await Poll.UntilAsync(() => emulator.Requests.Count == 1, "the aborted request to be recorded");
        Assert.Multiple(() =>
        {
            Assert.That(emulator.Requests.Single().StatusCode, Is.Zero);
            Assert.That(emulator.SuccessfulTokenRequestCount, Is.Zero);
        });
    }

    [Test]
    public async Task TokenLatency_Set_RequestStillAnswered()
    {
        var (emulator, client) = await StartAsync();
        emulator.TokenLatency = TimeSpan.FromMilliseconds(10);

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm());

        Assert.Multiple(() =>
        {
            Assert.That(emulator.TokenLatency, Is.EqualTo(TimeSpan.FromMilliseconds(10)));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task WithLatency_CancelledDuringLatency_RequestIsCancelled()
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.Empty(500).WithLatency(TimeSpan.FromHours(1)));
        using var cancellation = new CancellationTokenSource();

        var request = client.PostAsync("oauth/token", ClientCredentialsForm(), cancellation.Token);
        await Poll.UntilAsync(() => emulator.TokenRequestCount == 1, "the token request to reach the emulator");
        await cancellation.CancelAsync();

        Assert.That(async () => await request, Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task TokenFaultRule_Set_ConsultedWithParsedRequestWhenQueueIsEmpty()
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.Empty(500));
        var seen = new List<string?>();
        emulator.TokenFaultRule = request =>
        {
            seen.Add(request.Form.GetValueOrDefault("scope"));
            return request.Form.GetValueOrDefault("scope") == "alerts" ? EmulatorFault.Detail(403, "Scope not allowed") : null;
        };

        using var queued = await client.PostAsync("oauth/token", ClientCredentialsForm(scope: "alerts"));
        using var ruled = await client.PostAsync("oauth/token", ClientCredentialsForm(scope: "alerts"));
        using var passed = await client.PostAsync("oauth/token", ClientCredentialsForm(scope: "other"));
        emulator.TokenFaultRule = null;
        using var cleared = await client.PostAsync("oauth/token", ClientCredentialsForm(scope: "alerts"));

        Assert.Multiple(() =>
        {
            Assert.That(queued.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
            Assert.That(ruled.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(passed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(cleared.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(seen, Is.EqualTo(new[] { "alerts", "other" }));
        });
    }

    [Test]
    public async Task TokenFaultRule_EveryOtherRequest_FailsAlternately()
    {
        var (emulator, client) = await StartAsync();
        var calls = 0;
        emulator.TokenFaultRule = _ => Interlocked.Increment(ref calls) % 2 == 1 ? EmulatorFault.TooManyRequests() : null;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.PostAsync("oauth/token", ClientCredentialsForm());
            statuses.Add(response.StatusCode);
        }

        Assert.That(statuses, Is.EqualTo(new[] { HttpStatusCode.TooManyRequests, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.OK }));
    }

    [Test]
    public async Task EnqueueApiFault_Queued_NextApiRequestGetsItBeforeTokenCheck()
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);
        emulator.EnqueueApiFault(EmulatorFault.Html(503));
        emulator.EnqueueApiFault(EmulatorFault.Detail(500, "boom"));

        using var html = await GetWithTokenAsync(client, "v1/ping", null);
        using var detail = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);
        using var normal = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);
        using var tokenResponse = await client.PostAsync("oauth/token", ClientCredentialsForm());

        Assert.Multiple(() =>
        {
            Assert.That(html.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(detail.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
            Assert.That(normal.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(tokenResponse.StatusCode, Is.EqualTo(HttpStatusCode.OK), "API faults do not touch token requests");
        });
    }

    [Test]
    public async Task EnqueueApiFault_Unauthorized_CountedAsUnauthorized()
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);
        emulator.EnqueueApiFault(EmulatorFault.Fault(401, "Access Token expired", "keymanagement.service.access_token_expired"));

        using var response = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(emulator.UnauthorizedCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task EnqueueApiFault_ConnectionReset_ClientGetsHttpRequestException()
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);
        emulator.EnqueueApiFault(EmulatorFault.ConnectionReset());

        Assert.That(() => GetWithTokenAsync(client, "v1/ping", "Bearer " + token), Throws.InstanceOf<HttpRequestException>());
        using var next = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);
        Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task ApiFaultRule_Set_SeesPresentedToken()
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);
        string? seen = null;
        emulator.ApiFaultRule = request =>
        {
            seen = request.Token;
            return EmulatorFault.TooManyRequests(TimeSpan.FromSeconds(3));
        };

        using var response = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
            Assert.That(response.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(3)));
            Assert.That(seen, Is.EqualTo(token));
        });
    }

    [Test]
    public async Task ApiFaultRule_Set_SeesOwnerOfPresentedTokenSoItCanFaultOneAgency()
    {
        var (emulator, client) = await StartAsync();
        emulator.AddClient("agency-b", "secret-b");
        var ownToken = await GetTokenAsync(client);
        var otherToken = await GetTokenAsync(client, "agency-b", "secret-b");
        emulator.ApiFaultRule = request => request.TokenClientId == "agency-b" ? EmulatorFault.Html(503) : null;

        using var own = await GetWithTokenAsync(client, "v1/ping", "Bearer " + ownToken);
        using var other = await GetWithTokenAsync(client, "v1/ping", "Bearer " + otherToken);

        Assert.Multiple(() =>
        {
            Assert.That(own.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        });
    }

    [Test]
    public async Task TokenFaultRule_Throws_AnswersServerErrorNamingTheException()
    {
        var (emulator, client) = await StartAsync();
        emulator.TokenFaultRule = _ => throw new InvalidOperationException("rule bug");

        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm());
        var body = await response.Content.ReadAsStringAsync();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
            Assert.That(body, Does.Contain("InvalidOperationException: rule bug"));
        });
    }
}
