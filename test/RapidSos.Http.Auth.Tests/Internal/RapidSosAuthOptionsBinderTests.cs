using Microsoft.Extensions.Configuration;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

public class RapidSosAuthOptionsBinderTests
{
    private static IReadOnlyList<string> Failures(RapidSosAuthOptions options, string name = "") =>
        new RapidSosAuthOptionsValidator().Validate(name, options).Failures?.ToList() ?? [];

    [TestCase("htps://client:topsecret@api.rapidsos.com/oauth/token", "'htps://***@api.rapidsos.com/oauth/token'")]
    [TestCase("client:topsecret@api.rapidsos.com", "'***@api.rapidsos.com'")]
    [TestCase("ftp://client:topsecret@api.rapidsos.com\\x", "'ftp://***@api.rapidsos.com\\x'")]
    [TestCase("ftp://api.rapidsos.com/?client_secret=topsecret", "'ftp://api.rapidsos.com/'")]
    [TestCase("not a uri #topsecret", "'not a uri '")]
    public void Bind_BadUrl_IsShownWithoutUserInfoOrQuery(string configured, string shown)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RapidSos:BaseAddress"] = configured,
            ["RapidSos:TokenEndpoint"] = configured,
            ["RapidSos:AdditionalOrigins:0"] = configured,
        }).Build();
        var options = new RapidSosAuthOptions { ClientId = "id", ClientSecret = "s" };

        RapidSosAuthOptionsBinder.Bind(configuration.GetSection("RapidSos"), options);
        var failures = string.Join("\n", Failures(options));

        Assert.That(failures, Does.Contain("'RapidSos:BaseAddress' = " + shown).And.Contain("'RapidSos:TokenEndpoint' = " + shown).And.Contain("'RapidSos:AdditionalOrigins:0' = " + shown));
        Assert.That(failures, Does.Not.Contain("topsecret").And.Not.Contain("top secret"));
    }

    [Test]
    public void Bind_EveryBadValue_IsNamedWithItsPath()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RapidSos:BaseAddress"] = "not a uri",
            ["RapidSos:TokenEndpoint"] = "/relative",
            ["RapidSos:GrantType"] = "Implicit",
            ["RapidSos:ClientAuthentication"] = "1",
            ["RapidSos:RefreshBeforeExpiry"] = "five minutes",
            ["RapidSos:RetryOnUnauthorized"] = "yes",
            ["RapidSos:AdditionalOrigins:0"] = "edx",
            ["RapidSos:ClientId"] = "id",
            ["RapidSos:ClientSecret"] = "secret",
        }).Build();
        var options = new RapidSosAuthOptions();

        RapidSosAuthOptionsBinder.Bind(configuration.GetSection("RapidSos"), options);
        var failures = Failures(options);

        Assert.That(failures, Has.Some.Contains("'RapidSos:BaseAddress' = 'not a uri' is not an absolute http(s) URI"));
        Assert.That(failures, Has.Some.Contains("'RapidSos:TokenEndpoint' = '/relative' is not an absolute http(s) URI"));
        Assert.That(failures, Has.Some.Contains("'RapidSos:GrantType' = 'Implicit' is not ClientCredentials or Password"));
        Assert.That(failures, Has.Some.Contains("'RapidSos:ClientAuthentication' = '1' is not FormFields or BasicHeader"));
        Assert.That(failures, Has.Some.Contains("'RapidSos:RefreshBeforeExpiry' = 'five minutes' is not a time span"));
        Assert.That(failures, Has.Some.Contains("'RapidSos:RetryOnUnauthorized' = 'yes' is not true or false"));
        Assert.That(failures, Has.Some.Contains("'RapidSos:AdditionalOrigins:0' = 'edx' is not an absolute http(s) URI"));
    }

    [Test]
    public void Bind_GoodValues_SetEveryOption()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["BaseAddress"] = "https://api.rapidsos.com/",
            ["TokenEndpoint"] = "https://edx-sandbox.rapidsos.com/oauth/token/",
            ["GrantType"] = "password",
            ["ClientAuthentication"] = "BasicHeader",
            ["ClientId"] = "id",
            ["ClientSecret"] = "secret",
            ["Username"] = "user",
            ["Password"] = "pw",
            ["Scope"] = "alerts",
            ["RefreshBeforeExpiry"] = "00:02:00",
            ["RetryOnUnauthorized"] = "false",
            ["AdditionalOrigins:0"] = "https://edx-sandbox.rapidsos.com",
        }).Build();
        var options = new RapidSosAuthOptions();

        RapidSosAuthOptionsBinder.Bind(configuration, options);

        Assert.That(Failures(options), Is.Empty);
        Assert.That(options.BaseAddress, Is.EqualTo(RapidSosEnvironment.Production));
        Assert.That(options.TokenEndpoint, Is.EqualTo(new Uri("https://edx-sandbox.rapidsos.com/oauth/token/")));
        Assert.That(options.GrantType, Is.EqualTo(RapidSosGrantType.Password));
        Assert.That(options.ClientAuthentication, Is.EqualTo(RapidSosClientAuthentication.BasicHeader));
        Assert.That((options.ClientId, options.ClientSecret, options.Username, options.Password, options.Scope), Is.EqualTo(("id", "secret", "user", "pw", "alerts")));
        Assert.That(options.RefreshBeforeExpiry, Is.EqualTo(TimeSpan.FromMinutes(2)));
        Assert.That(options.RetryOnUnauthorized, Is.False);
        Assert.That(options.AdditionalOrigins, Is.EqualTo(new[] { new Uri("https://edx-sandbox.rapidsos.com") }));
    }
}
