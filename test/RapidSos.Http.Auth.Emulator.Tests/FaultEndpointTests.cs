using System.Net;
using System.Net.Http.Headers;

namespace RapidSos.Http.Auth.Emulator.Tests;

/// <summary>POST /_emulator/faults and POST /_emulator/api-faults, end to end: what the next requests get.</summary>
public sealed class FaultEndpointTests : EmulatorHostTestBase
{
    [Test]
    public async Task Faults_StatusBodyAndRetryAfter_NextTokenRequestGetsItThenTheNormalAnswer()
    {
        await StartHostAsync();

        var answer = await PostAsync("faults", """{ "status": 503, "retryAfter": 2, "body": "down for maintenance", "contentType": "text/plain" }""");
        using var faulted = await RequestTokenAsync(ClientA, SecretA);
        using var next = await RequestTokenAsync(ClientA, SecretA);

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.OK), answer.ToString());
            Assert.That(answer.Body, Is.EqualTo("""{"queue":"token","fault":"Status(503).WithRetryAfter(2s)","queued":1}"""));
            Assert.That(faulted.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
            Assert.That(faulted.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(faulted.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/plain"));
            Assert.That(await faulted.Content.ReadAsStringAsync(), Is.EqualTo("down for maintenance"));
            Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task Faults_Client_OnlyThatClientsNextTokenRequestGetsIt()
    {
        await StartHostAsync();

        var answer = await PostAsync("faults", $$"""{ "kind": "invalidClient", "client": "{{ClientB}}" }""");
        using var other = await RequestTokenAsync(ClientA, SecretA);
        using var own = await RequestTokenAsync(ClientB, SecretB);

        Assert.Multiple(() =>
        {
            Assert.That(answer.Body, Is.EqualTo($$"""{"queue":"token","fault":"InvalidClient()","queued":1,"client":"{{ClientB}}"}"""));
            Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(own.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        });
    }

    [Test]
    public async Task Faults_Count_TheNextThatManyTokenRequestsGetIt()
    {
        await StartHostAsync();

        await PostAsync("faults", """{ "kind": "tooManyRequests", "retryAfter": 1, "count": 2 }""");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await RequestTokenAsync(ClientA, SecretA);
            statuses.Add(response.StatusCode);
        }

        Assert.That(statuses, Is.EqualTo(new[] { HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests, HttpStatusCode.OK }));
    }

    [Test]
    public async Task Faults_ConnectionReset_NextTokenRequestFailsWithoutAnswer()
    {
        await StartHostAsync();

        await PostAsync("faults", """{ "kind": "connectionReset" }""");

        Assert.That(() => RequestTokenAsync(ClientA, SecretA), Throws.InstanceOf<HttpRequestException>());
    }

    [TestCase("faults", "", "needs a JSON object in the body")]
    [TestCase("faults", "{ \"status\": 503", "not well-formed JSON (line 1, byte")]
    [TestCase("faults", "[503]", "must be a JSON object")]
    [TestCase("faults", "{ \"statuz\": 503 }", "The JSON property 'statuz' could not be mapped")]
    [TestCase("faults", "{ \"status\": \"503\" }", "at $.status: The JSON value could not be converted")]
    [TestCase("faults", "{ \"status\": 503, \"client\": \"\" }", "\"client\" must not be empty")]
    [TestCase("faults", "{ \"kind\": \"html\" }", "kind html needs a \"status\"")]
    [TestCase("api-faults", "{ \"status\": 503, \"client\": \"agency-a\" }", "\"client\" applies to token faults")]
    public async Task Faults_BadBody_AnswerBadRequestAndQueueNothing(string path, string body, string expected)
    {
        await StartHostAsync();
        var token = await GetTokenAsync();

        var answer = await PostAsync(path, body);

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.BadRequest), answer.ToString());
            Assert.That(answer.MediaType, Is.EqualTo("application/json"));
            Assert.That(answer.Error, Does.Contain(expected));
            using var next = await RequestTokenAsync(ClientA, SecretA);
            Assert.That(next.StatusCode, Is.EqualTo(HttpStatusCode.OK), "no token fault queued");
            Assert.That(await PingAsync(token), Is.EqualTo(HttpStatusCode.OK), "no API fault queued");
        });
    }

    [Test]
    public async Task Faults_QueryParameter_AnswersBadRequest()
    {
        await StartHostAsync();

        var answer = await PostAsync("faults?client=agency-a", """{ "status": 503 }""");

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(answer.Error, Does.Contain("takes no query parameter, not 'client'"));
        });
    }

    [Test]
    public async Task ApiFaults_Detail_NextApiRequestGetsItThenTheNormalAnswer()
    {
        await StartHostAsync();
        var token = await GetTokenAsync();

        var answer = await PostAsync("api-faults", """{ "kind": "detail", "status": 500, "detail": "Internal server error" }""");
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/ping") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };
        using var faulted = await Gateway.SendAsync(request);
        var next = await PingAsync(token);

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Body, Is.EqualTo("""{"queue":"api","fault":"Detail(500)","queued":1}"""));
            Assert.That(faulted.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
            Assert.That(await faulted.Content.ReadAsStringAsync(), Is.EqualTo("""{"detail":"Internal server error"}"""));
            Assert.That(next, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task ApiFaults_Unauthorized_ApiRefusesAValidTokenOnce()
    {
        await StartHostAsync();
        var token = await GetTokenAsync();

        await PostAsync("api-faults", """{ "kind": "apigeeFault", "status": 401, "faultstring": "Invalid Access Token", "errorcode": "keymanagement.service.invalid_access_token" }""");

        Assert.Multiple(async () =>
        {
            Assert.That(await PingAsync(token), Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await PingAsync(token), Is.EqualTo(HttpStatusCode.OK));
        });
    }
}
