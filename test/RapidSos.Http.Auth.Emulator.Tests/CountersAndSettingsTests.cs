using System.Net;
using System.Text.Json;

namespace RapidSos.Http.Auth.Emulator.Tests;

/// <summary>GET /_emulator/counters, POST /_emulator/reset, GET|POST /_emulator/settings.</summary>
public sealed class CountersAndSettingsTests : EmulatorHostTestBase
{
    [Test]
    public async Task Counters_AfterRequests_CountTokenRequestsSuccessesApiRequestsAndUnauthorized()
    {
        await StartHostAsync();
        var token = await GetTokenAsync();
        using (await RequestTokenAsync(ClientA, "wrong secret"))
        {
        }

        await PingAsync(token);
        await PingAsync("not-a-token");

        var answer = await GetAsync("counters");

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(answer.MediaType, Is.EqualTo("application/json"));
            Assert.That(answer.Body, Is.EqualTo("""{"tokenRequests":2,"successfulTokenRequests":1,"apiRequests":2,"unauthorized":1}"""));
        });
    }

    [Test]
    public async Task Reset_AfterRequests_ZeroesCountersButKeepsTokensValid()
    {
        await StartHostAsync();
        var token = await GetTokenAsync();
        await PingAsync("not-a-token");

        var answer = await PostAsync("reset");
        var counters = await GetAsync("counters");

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Body, Is.EqualTo("""{"tokenRequests":0,"successfulTokenRequests":0,"apiRequests":0,"unauthorized":0}"""));
            Assert.That(counters.Body, Is.EqualTo(answer.Body));
            Assert.That(await PingAsync(token), Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task Settings_Get_ShowsTheCommandLinesValues()
    {
        await StartHostAsync("--client", $"{ClientA}:{SecretA}", "--token-lifetime", "90s", "--token-latency", "5ms");

        var answer = await GetAsync("settings");

        Assert.That(answer.Body, Is.EqualTo("""{"tokenLifetime":"90s","tokenLatency":"5ms","rejectAllTokens":false}"""));
    }

    [Test]
    public async Task Settings_Post_ChangesTheLifetimeOfTokensIssuedFromNow()
    {
        await StartHostAsync();

        var answer = await PostAsync("settings", """{ "tokenLifetime": "2m", "tokenLatency": 0, "rejectAllTokens": true }""");
        using var response = await RequestTokenAsync(ClientA, SecretA);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.OK), answer.ToString());
            Assert.That(answer.Body, Is.EqualTo("""{"tokenLifetime":"2m","tokenLatency":"0s","rejectAllTokens":true}"""));
            Assert.That(json.RootElement.GetProperty("expires_in").GetString(), Is.EqualTo("120"));
            Assert.That(Host.Emulator.RejectAllTokens, Is.True);
        });
    }

    [TestCase("{}", "Give at least one of")]
    [TestCase("""{ "tokenLifetime": "forever" }""", "\"tokenLifetime\" must be seconds as a number, or a duration")]
    [TestCase("""{ "tokenLifetime": "2m", "tokenLatency": "25h" }""", "\"tokenLatency\" must be at most 24h")]
    [TestCase("""{ "tokenLifetime": "2m", "tokenLatency": -1 }""", "\"tokenLatency\" must be seconds as a number")]
    [TestCase("""{ "tokenLifetime": "2m", "rejectAllTokens": "yes" }""", "at $.rejectAllTokens")]
    [TestCase("""{ "lifetime": "1h" }""", "'lifetime' could not be mapped")]
    public async Task Settings_BadBody_AnswersBadRequestAndChangesNothing(string body, string expected)
    {
        await StartHostAsync();

        var answer = await PostAsync("settings", body);

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.BadRequest), answer.ToString());
            Assert.That(answer.Error, Does.Contain(expected));
            Assert.That(Host.Emulator.TokenLifetime, Is.EqualTo(TimeSpan.FromHours(1)));
            Assert.That(Host.Emulator.TokenLatency, Is.EqualTo(TimeSpan.Zero));
            Assert.That(Host.Emulator.RejectAllTokens, Is.False);
        });
    }
}
