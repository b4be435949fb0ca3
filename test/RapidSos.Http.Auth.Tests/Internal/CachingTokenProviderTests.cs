using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Internal;

/// <summary>The provider of one registration: its arguments, its options and their rotation.</summary>
public class CachingTokenProviderTests
{
    [Test]
    public void RefreshTokenAsync_NullRejected_Throws()
    {
        using var h = new ProviderHarness();
        Assert.ThrowsAsync<ArgumentNullException>(async () => await h.Provider.RefreshTokenAsync(null!));
    }

    [Test]
    public async Task GetTokenAsync_SecretRotatedInOptionsMonitor_NextRequestUsesNewSecretAndOldTokenIsNotServed()
    {
        var secret = "first-secret";
        var rotation = new ManualChangeTokenSource();
        using var h = new ProviderHarness(o => o.ClientSecret = secret, s => s.AddSingleton<Microsoft.Extensions.Options.IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation));
        var old = await h.Provider.GetTokenAsync();

        secret = "second-secret";
        rotation.Change();
        var fresh = await h.Provider.GetTokenAsync();

        Assert.That(fresh.Value, Is.Not.EqualTo(old.Value));
        Assert.That(h.Endpoint.Requests.Last().Form["client_secret"], Is.EqualTo("second-secret"));
    }

    [Test]
    public void GetTokenAsync_InvalidOptions_ThrowsValidationErrorNamingEveryProblem()
    {
        using var h = new ProviderHarness(o =>
        {
            o.ClientSecret = "";
            o.MaxCredentialSets = 0;
        });

        var ex = Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.Failures, Has.Some.Contains("ClientSecret is required when ClientId is set"));
        Assert.That(ex.Failures, Has.Some.Contains("MaxCredentialSets is 0"));
        Assert.That(h.Endpoint.RequestCount, Is.Zero);
    }

    [Test]
    public void GetTokenAsync_NoCredentialsOfItsOwn_NamesBothWaysToGiveSomeAndSendsNothing()
    {
        using var h = new ProviderHarness(o =>
        {
            o.ClientId = null;
            o.ClientSecret = null;
        });

        var ex = Assert.ThrowsAsync<InvalidOperationException>(async () => await h.Provider.GetTokenAsync());

        Assert.That(ex!.Message, Does.Contain("WithRapidSosCredential").And.Contain("IRapidSosCredentialResolver"));
        Assert.That(h.Endpoint.RequestCount, Is.Zero);
    }

    [Test]
    public async Task GetTokenAsync_PasswordRotated_NextRequestUsesNewPasswordAndOldTokenIsNotServed()
    {
        var password = "first-password";
        var rotation = new ManualChangeTokenSource();
        using var h = new ProviderHarness(
            o =>
            {
                o.GrantType = RapidSosGrantType.Password;
                o.Username = "dispatcher@psap.example";
                o.Password = password;
            },
            s => s.AddSingleton<Microsoft.Extensions.Options.IOptionsChangeTokenSource<RapidSosAuthOptions>>(rotation));
        var old = await h.Provider.GetTokenAsync();

        password = "second-password";
        rotation.Change();
        var fresh = await h.Provider.GetTokenAsync();

        Assert.That(fresh.Value, Is.Not.EqualTo(old.Value));
        Assert.That(h.Endpoint.Requests.Last().Form["password"], Is.EqualTo("second-password"));
    }
}
