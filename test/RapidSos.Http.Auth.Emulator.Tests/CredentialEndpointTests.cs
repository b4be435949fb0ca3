using System.Net;

namespace RapidSos.Http.Auth.Emulator.Tests;

/// <summary>POST /_emulator/clients, DELETE /_emulator/clients/{id}, POST /_emulator/users, DELETE /_emulator/users/{name}.</summary>
public sealed class CredentialEndpointTests : EmulatorHostTestBase
{
    [Test]
    public async Task Clients_PostNew_AddsClientWith201()
    {
        await StartHostAsync();

        var answer = await PostAsync("clients", """{ "clientId": "agency-c", "clientSecret": "secret-c-Jk20" }""");

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.Created));
            Assert.That(answer.Body, Is.EqualTo("""{"result":"added","clientId":"agency-c"}"""));
            Assert.That(await GetTokenAsync("agency-c", "secret-c-Jk20"), Is.Not.Empty);
        });
    }

    [Test]
    public async Task Clients_PostKnown_ChangesTheSecretWith200()
    {
        await StartHostAsync();

        var answer = await PostAsync("clients", $$"""{ "clientId": "{{ClientA}}", "clientSecret": "rotated-secret-Qa55" }""");
        using var old = await RequestTokenAsync(ClientA, SecretA);
        using var rotated = await RequestTokenAsync(ClientA, "rotated-secret-Qa55");

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(answer.Body, Is.EqualTo($$"""{"result":"secretChanged","clientId":"{{ClientA}}"}"""));
            Assert.That(old.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(rotated.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [TestCase("""{ "clientSecret": "s" }""", "\"clientId\" is required")]
    [TestCase("""{ "clientId": "", "clientSecret": "s" }""", "\"clientId\" is required")]
    [TestCase("""{ "clientId": "c" }""", "\"clientSecret\" is required")]
    [TestCase("""{ "clientId": "c", "clientSecret": "" }""", "\"clientSecret\" is required")]
    [TestCase("""{ "clientId": "c\n", "clientSecret": "s" }""", "\"clientId\" must not contain control characters")]
    [TestCase("""{ "clientId": "c", "clientSecret": "s", "scope": "x" }""", "'scope' could not be mapped")]
    public async Task Clients_BadBody_AnswersBadRequestAndAddsNothing(string body, string expected)
    {
        await StartHostAsync();

        var answer = await PostAsync("clients", body);
        using var token = await RequestTokenAsync("c", "s");

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.BadRequest), answer.ToString());
            Assert.That(answer.Error, Does.Contain(expected));
            Assert.That(token.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        });
    }

    [Test]
    public async Task Clients_Delete_RemovesTheClientAndRevokesItsTokens()
    {
        await StartHostAsync();
        var token = await GetTokenAsync(ClientA, SecretA);

        var answer = await DeleteAsync($"clients/{ClientA}");
        using var refused = await RequestTokenAsync(ClientA, SecretA);

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(answer.Body, Is.EqualTo($$"""{"result":"removed","clientId":"{{ClientA}}"}"""));
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await PingAsync(token), Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await GetTokenAsync(ClientB, SecretB), Is.Not.Empty, "other clients are kept");
        });
    }

    [Test]
    public async Task Clients_DeleteUnknown_AnswersNotFound()
    {
        await StartHostAsync();

        var answer = await DeleteAsync("clients/nobody");

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(answer.Error, Does.Contain("No client 'nobody'"));
        });
    }

    [Test]
    public async Task Clients_DeleteThenPost_AddsTheClientAgainWith201()
    {
        await StartHostAsync();

        await DeleteAsync($"clients/{ClientB}");
        var answer = await PostAsync("clients", $$"""{ "clientId": "{{ClientB}}", "clientSecret": "{{SecretB}}" }""");

        Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.Created));
    }

    [Test]
    public async Task Users_PostWithClient_PasswordGrantAcceptsTheUserThroughThatClientOnly()
    {
        await StartHostAsync();

        var answer = await PostAsync("users", $$"""{ "username": "dispatcher", "password": "pw-Tx81", "clientId": "{{ClientB}}" }""");
        using var own = await RequestUserTokenAsync("dispatcher", "pw-Tx81", ClientB, SecretB);
        using var other = await RequestUserTokenAsync("dispatcher", "pw-Tx81", ClientA, SecretA);

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.Created));
            Assert.That(answer.Body, Is.EqualTo($$"""{"result":"added","clientId":"{{ClientB}}","username":"dispatcher"}"""));
            Assert.That(own.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "the user belongs to agency-b only");
        });
    }

    [Test]
    public async Task Users_PostKnown_ReplacesThePasswordWith200()
    {
        await StartHostAsync();

        var answer = await PostAsync("users", $$"""{ "username": "{{UserA}}", "password": "new-password-Hh4" }""");

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(answer.Body, Is.EqualTo($$"""{"result":"replaced","username":"{{UserA}}"}"""));
            Assert.That(await GetUserTokenAsync(UserA, "new-password-Hh4", ClientB, SecretB), Is.Not.Empty, "without a clientId: any client");
        });
    }

    [TestCase("""{ "password": "p" }""", "\"username\" is required")]
    [TestCase("""{ "username": "u" }""", "\"password\" is required")]
    [TestCase("""{ "username": "u", "password": "p", "clientId": "" }""", "\"clientId\" must not be empty; leave it out")]
    public async Task Users_BadBody_AnswersBadRequest(string body, string expected)
    {
        await StartHostAsync();

        var answer = await PostAsync("users", body);

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.BadRequest), answer.ToString());
            Assert.That(answer.Error, Does.Contain(expected));
        });
    }

    [Test]
    public async Task Users_Delete_RemovesTheUserAndRevokesTheirTokens()
    {
        await StartHostAsync();
        var token = await GetUserTokenAsync();

        var answer = await DeleteAsync($"users/{Uri.EscapeDataString(UserA)}");
        var again = await DeleteAsync($"users/{Uri.EscapeDataString(UserA)}");

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Body, Is.EqualTo($$"""{"result":"removed","username":"{{UserA}}"}"""));
            Assert.That(again.Status, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(await PingAsync(token), Is.EqualTo(HttpStatusCode.Unauthorized));
        });
    }
}
