namespace RapidSos.Http.Auth.Tests;

public class RapidSosAuthOptionsTests
{
    [Test]
    public void OptionsToString_NeverShowsSecretOrPassword()
    {
        var options = new RapidSosAuthOptions { ClientId = "id", ClientSecret = "the-secret", Password = "the-password" };

        Assert.That(options.ToString(), Does.Not.Contain("the-secret").And.Not.Contain("the-password").And.Contain("id"));
    }
}
