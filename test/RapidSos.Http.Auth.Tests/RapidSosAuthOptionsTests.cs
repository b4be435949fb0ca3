namespace RapidSos.Http.Auth.Tests;

public class RapidSosAuthOptionsTests
{
    [Test]
    public void OptionsToString_NeverShowsSecretOrPassword()
    {
        var options = new RapidSosAuthOptions { ClientId = "id", ClientSecret = "the-secret", Password = "the-password" };

        Assert.That(options.ToString(), Does.Not.Contain("the-secret").And.Not.Contain("the-password").And.Contain("id"));
    }

    [Test]
    public void OptionsToString_ShowsUrlsWithoutUserInfoOrQuery()
    {
        var options = new RapidSosAuthOptions
        {
            BaseAddress = new Uri("https://client:topsecret@api.rapidsos.com/v1/?key=topsecret2"),
            TokenEndpoint = new Uri("https://a%40b:top%20secret@edx.rapidsos.com/oauth/token#topsecret3"),
        };

        var text = options.ToString();

        Assert.That(text, Does.Contain("https://api.rapidsos.com/v1/").And.Contain("https://edx.rapidsos.com/oauth/token"));
        Assert.That(text, Does.Not.Contain("topsecret").And.Not.Contain("top%20secret").And.Not.Contain("client"));
    }
}
