namespace RapidSos.Http.Auth.Emulator.Tests;

/// <summary>No control API answer, success or error, ever carries a client secret, a password or a token.</summary>
public sealed class SecretExposureTests : EmulatorHostTestBase
{
    [Test]
    public async Task EveryEndpoint_SuccessOrError_NeverReturnsASecretPasswordOrToken()
    {
        await StartHostAsync();
        const string NewSecret = "added-secret-Vb62";
        const string NewPassword = "added-password-Nc40";
        var clientToken = await GetTokenAsync();
        var userToken = await GetUserTokenAsync();
        var answers = new List<ControlAnswer>
        {
            await GetAsync(string.Empty),
            await GetAsync("counters"),
            await GetAsync("settings"),
            await PostAsync("settings", """{ "tokenLifetime": "1h" }"""),
            await PostAsync("reject"),
            await PostAsync("reject?enabled=false"),
            await PostAsync("faults", $$"""{ "status": 503, "client": "{{ClientA}}" }"""),
            await PostAsync("api-faults", """{ "kind": "empty", "status": 500 }"""),
            await PostAsync("clients", $$"""{ "clientId": "agency-c", "clientSecret": "{{NewSecret}}" }"""),
            await PostAsync("clients", $$"""{ "clientId": "agency-c", "clientSecret": "{{NewSecret}}-rotated" }"""),
            await PostAsync("users", $$"""{ "username": "new-user", "password": "{{NewPassword}}", "clientId": "agency-c" }"""),
            await PostAsync("revoke?token=" + Uri.EscapeDataString(clientToken)),
            await PostAsync("revoke?token=" + Uri.EscapeDataString(clientToken) + "x"),
            await PostAsync("revoke?user=" + Uri.EscapeDataString(UserA)),
            await PostAsync("revoke?client=" + ClientA),
            await PostAsync("revoke"),
            await PostAsync("reset"),
            await DeleteAsync("users/new-user"),
            await DeleteAsync("clients/agency-c"),

            // Errors, with the secrets in the request wherever a request can hold one.
            await PostAsync("clients", $$"""{ "clientId": "", "clientSecret": "{{NewSecret}}" }"""),
            await PostAsync("clients", $$"""{ "clientId": "c\u0007", "clientSecret": "{{NewSecret}}" }"""),
            await PostAsync("clients", $$"""{ "clientId": "c", "clientSecret": {{NewSecret}} }"""),
            await PostAsync("clients", $$"""{ "clientId": "c", "clientSecret": 42, "{{NewSecret}}": 1 }"""),
            await PostAsync("users", $$"""{ "username": "", "password": "{{NewPassword}}" }"""),
            await PostAsync("users", $$"""{ "username": "u", "password": ["{{NewPassword}}"] }"""),
            await PostAsync("faults", $$"""{ "status": 503, "body": "{{SecretA}}", "contentType": 7 }"""),
            await PostAsync("revoke?token=" + Uri.EscapeDataString(userToken) + "&client=" + ClientA),
            await PostAsync("revoke?token=" + Uri.EscapeDataString(userToken), "{}"),
            await SendAsync(HttpMethod.Get, "revoke?token=" + Uri.EscapeDataString(userToken), null),
            await SendAsync(HttpMethod.Post, "revoke?token=" + Uri.EscapeDataString(userToken), null, r => r.Headers.Add("Origin", "https://attacker.example")),
            await DeleteAsync("clients/" + ClientB + "x"),
        };
        var text = string.Join("\n", answers.Select(a => a.Headers + "\n" + a.Body));

        Assert.Multiple(() =>
        {
            Assert.That(answers, Has.Count.GreaterThan(30));
            foreach (var secret in new[] { SecretA, SecretB, PasswordA, NewSecret, NewPassword, clientToken, userToken })
            {
                Assert.That(text, Does.Not.Contain(secret));
            }
        });
    }

    [Test]
    public async Task MalformedBody_IsReportedByPositionWithoutQuotingIt()
    {
        await StartHostAsync();

        var answer = await PostAsync("clients", """{ "clientId": "x", "clientSecret": hunter2 }""");

        Assert.Multiple(() =>
        {
            Assert.That(answer.Error, Does.Contain("not well-formed JSON (line 1, byte"));
            Assert.That(answer.Body, Does.Not.Contain("hunter2").And.Not.Contain("'h'"));
        });
    }
}
