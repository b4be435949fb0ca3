using System.Net;

namespace RapidSos.Http.Auth.Emulator.Tests;

/// <summary>POST /_emulator/revoke and POST /_emulator/reject.</summary>
public sealed class RevokeAndRejectTests : EmulatorHostTestBase
{
    [Test]
    public async Task Revoke_NoQuery_RevokesEveryTokenIssuedSoFar()
    {
        await StartHostAsync();
        var tokenA = await GetTokenAsync(ClientA, SecretA);
        var tokenB = await GetTokenAsync(ClientB, SecretB);

        var answer = await PostAsync("revoke");
        var later = await GetTokenAsync(ClientA, SecretA);

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.OK), answer.ToString());
            Assert.That(answer.Body, Is.EqualTo("""{"revoked":"all"}"""));
            Assert.That(await PingAsync(tokenA), Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await PingAsync(tokenB), Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await PingAsync(later), Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task Revoke_Client_RevokesOnlyThatClientsTokens()
    {
        await StartHostAsync();
        var tokenA = await GetTokenAsync(ClientA, SecretA);
        var tokenB = await GetTokenAsync(ClientB, SecretB);

        var answer = await PostAsync($"revoke?client={ClientA}");

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Body, Is.EqualTo($$"""{"revoked":"client","client":"{{ClientA}}"}"""));
            Assert.That(await PingAsync(tokenA), Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await PingAsync(tokenB), Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task Revoke_User_RevokesOnlyThatUsersTokens()
    {
        await StartHostAsync();
        var userToken = await GetUserTokenAsync();
        var clientToken = await GetTokenAsync(ClientA, SecretA);

        var answer = await PostAsync($"revoke?user={Uri.EscapeDataString(UserA)}");

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Body, Is.EqualTo($$"""{"revoked":"user","user":"{{UserA}}"}"""));
            Assert.That(await PingAsync(userToken), Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await PingAsync(clientToken), Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task Revoke_Token_RevokesThatTokenOnlyAndNeverSendsItBack()
    {
        await StartHostAsync();
        var revoked = await GetTokenAsync();
        var kept = await GetTokenAsync();

        var first = await PostAsync($"revoke?token={Uri.EscapeDataString(revoked)}");
        var again = await PostAsync($"revoke?token={Uri.EscapeDataString(revoked)}");

        Assert.Multiple(async () =>
        {
            Assert.That(first.Body, Is.EqualTo("""{"revoked":"token","found":true}"""));
            Assert.That(again.Body, Is.EqualTo("""{"revoked":"token","found":false}"""));
            Assert.That(await PingAsync(revoked), Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await PingAsync(kept), Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [TestCase("revoke?clients=a", "Unknown query parameter 'clients'")]
    [TestCase("revoke?client=a&user=b", "at most one")]
    [TestCase("revoke?client=", "must be given once, with a value")]
    [TestCase("revoke?client=a&client=b", "must be given once, with a value")]
    [TestCase("reject?enabled=yes", "?enabled must be true or false, not 'yes'")]
    [TestCase("reject?on=true", "Unknown query parameter 'on'")]
    public async Task RevokeAndReject_BadQuery_AnswerBadRequestNamingIt(string path, string expected)
    {
        await StartHostAsync();
        var token = await GetTokenAsync();

        var answer = await PostAsync(path);

        Assert.Multiple(async () =>
        {
            Assert.That(answer.Status, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(answer.Error, Does.Contain(expected));
            Assert.That(Host.Emulator.RejectAllTokens, Is.False);
            Assert.That(await PingAsync(token), Is.EqualTo(HttpStatusCode.OK), "a refused request changes nothing");
        });
    }

    [Test]
    public async Task Reject_NoQuery_TogglesRejectAllTokens()
    {
        await StartHostAsync();
        var token = await GetTokenAsync();

        var on = await PostAsync("reject");
        var whileOn = await PingAsync(token);
        var off = await PostAsync("reject");
        var whileOff = await PingAsync(token);

        Assert.Multiple(() =>
        {
            Assert.That(on.Body, Is.EqualTo("""{"rejectAllTokens":true}"""));
            Assert.That(whileOn, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(off.Body, Is.EqualTo("""{"rejectAllTokens":false}"""));
            Assert.That(whileOff, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task Reject_Enabled_SetsRejectAllTokensWhateverItWas()
    {
        await StartHostAsync();

        var first = await PostAsync("reject?enabled=true");
        var second = await PostAsync("reject?enabled=true");
        var third = await PostAsync("reject?enabled=false");

        Assert.Multiple(() =>
        {
            Assert.That(first.Body, Is.EqualTo("""{"rejectAllTokens":true}"""));
            Assert.That(second.Body, Is.EqualTo("""{"rejectAllTokens":true}"""));
            Assert.That(third.Body, Is.EqualTo("""{"rejectAllTokens":false}"""));
            Assert.That(Host.Emulator.RejectAllTokens, Is.False);
        });
    }

    [Test]
    public async Task RejectAllTokensSwitch_AtStart_ApiRefusesUntilTurnedOff()
    {
        await StartHostAsync("--client", $"{ClientA}:{SecretA}", "--reject-all-tokens");
        var token = await GetTokenAsync();

        var refused = await PingAsync(token);
        await PostAsync("reject?enabled=false");

        Assert.Multiple(async () =>
        {
            Assert.That(refused, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await PingAsync(token), Is.EqualTo(HttpStatusCode.OK));
        });
    }
}
