using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

public class RapidSosAuthOptionsValidatorTests
{
    private static RapidSosAuthOptions Valid() => new() { ClientId = "id", ClientSecret = "secret" };

    private static IReadOnlyList<string> Failures(RapidSosAuthOptions options, string name = "") =>
        new RapidSosAuthOptionsValidator().Validate(name, options).Failures?.ToList() ?? [];

    [Test]
    public void Validate_MinimalOptions_Succeeds() =>
        Assert.That(new RapidSosAuthOptionsValidator().Validate("", Valid()).Succeeded, Is.True);

    [Test]
    public void Validate_NoCredentialsOfItsOwn_IsValidForRunTimeCredentials() =>
        Assert.That(Failures(new RapidSosAuthOptions { GrantType = RapidSosGrantType.Password }), Is.Empty);

    [Test]
    public void Validate_HalfTheCredentials_NamesEveryMissingSettingAndRegistration()
    {
        var failures = Failures(new RapidSosAuthOptions { GrantType = RapidSosGrantType.Password, ClientId = "id" }, "alerts");

        Assert.That(failures, Has.Some.Contains("RapidSosAuthOptions.ClientSecret is required when ClientId is set"));
        Assert.That(Failures(new RapidSosAuthOptions { ClientSecret = "s" }), Has.Some.Contains("RapidSosAuthOptions.ClientId is required when ClientSecret is set"));
        Assert.That(failures, Has.Some.Contains("RapidSosAuthOptions.Username is required for the Password grant"));
        Assert.That(failures, Has.Some.Contains("RapidSosAuthOptions.Password is required for the Password grant"));
        Assert.That(failures, Has.All.Contains("registration 'alerts'"));
    }

    [TestCase("http://api.rapidsos.com/", "must use https")]
    [TestCase("ftp://api.rapidsos.com/", "must use https")]
    [TestCase("https://user:pw@api.rapidsos.com/", "must not contain user information")]
    [TestCase("https://api.rapidsos.com/?key=1", "must not contain a query")]
    public void Validate_BadBaseAddress_NamesProblem(string address, string problem) =>
        Assert.That(Failures(Valid().With(o => o.BaseAddress = new Uri(address))), Has.Some.Contains("BaseAddress " + problem));

    [TestCase("http://127.0.0.1:5000/")]
    [TestCase("http://localhost:5000/")]
    [TestCase("http://[::1]:5000/")]
    public void Validate_PlainHttpOnLoopback_IsAllowed(string address) =>
        Assert.That(Failures(Valid().With(o => { o.BaseAddress = new Uri(address); o.TokenEndpoint = new Uri(address + "oauth/token"); })), Is.Empty);

    [Test]
    public void Validate_RelativeOrPlainHttpTokenEndpoint_NamesProblem()
    {
        Assert.That(Failures(Valid().With(o => o.TokenEndpoint = new Uri("oauth/token", UriKind.Relative))), Has.Some.Contains("TokenEndpoint must be an absolute URI"));
        Assert.That(Failures(Valid().With(o => o.TokenEndpoint = new Uri("http://edx.rapidsos.com/oauth/token"))), Has.Some.Contains("TokenEndpoint must use https"));
    }

    [Test]
    public void Validate_OtherProblems_AreEachNamed()
    {
        var failures = Failures(Valid().With(o =>
        {
            o.GrantType = (RapidSosGrantType)7;
            o.ClientAuthentication = (RapidSosClientAuthentication)9;
            o.RefreshBeforeExpiry = TimeSpan.FromSeconds(-1);
            o.Scope = "alerts\r\nX: y";
            o.AdditionalOrigins.Add(new Uri("http://other.example/"));
        }));

        Assert.That(failures, Has.Some.Contains("GrantType has the unknown value 7"));
        Assert.That(failures, Has.Some.Contains("ClientAuthentication has the unknown value 9"));
        Assert.That(failures, Has.Some.Contains("RefreshBeforeExpiry is -00:00:01"));
        Assert.That(failures, Has.Some.Contains("Scope contains a control character"));
        Assert.That(failures, Has.Some.Contains("AdditionalOrigins[0] must use https"));
    }

    [Test]
    public void Validate_ControlCharacterInClientIdOrUsername_IsRefused()
    {
        Assert.That(Failures(Valid().With(o => o.ClientId = "id\r\nX-Injected: 1")), Has.Some.Contains("ClientId contains a control character"));
        Assert.That(Failures(Valid().With(o => { o.GrantType = RapidSosGrantType.Password; o.Username = "user\n"; o.Password = "pw"; })),
            Has.Some.Contains("Username contains a control character"));
    }

    [TestCase(0)]
    [TestCase(-5)]
    public void Validate_MaxCredentialSetsBelowOne_IsRefused(int max) =>
        Assert.That(Failures(Valid().With(o => o.MaxCredentialSets = max)), Has.Some.Contains($"MaxCredentialSets is {max}; it must be at least 1"));

    [Test]
    public void Validate_BasicHeaderWithColonInClientId_IsAllowedSinceTheIdIsFormEncoded() =>
        Assert.That(Failures(Valid().With(o => { o.ClientId = "a:b"; o.ClientAuthentication = RapidSosClientAuthentication.BasicHeader; })), Is.Empty);

    [TestCase("BaseAddress")]
    [TestCase("TokenEndpoint")]
    [TestCase("AdditionalOrigins")]
    public void Validate_UserInfoInAnAddress_IsRefusedWithoutRepeatingIt(string option)
    {
        var address = new Uri("https://client:topsecret@api.rapidsos.com/oauth/token");

        var failures = Failures(Valid().With(o =>
        {
            switch (option)
            {
                case "BaseAddress": o.BaseAddress = address; break;
                case "TokenEndpoint": o.TokenEndpoint = address; break;
                default: o.AdditionalOrigins.Add(address); break;
            }
        }));

        Assert.That(failures, Has.Some.Contains("must not contain user information"));
        Assert.That(string.Join("\n", failures), Does.Not.Contain("topsecret").And.Not.Contain("client:"));
    }

    [Test]
    public void Validate_Failures_NeverContainSecrets()
    {
        var options = new RapidSosAuthOptions
        {
            BaseAddress = new Uri("https://user:topsecret@api.rapidsos.com/?x=topsecret"),
            ClientSecret = "topsecret",
            GrantType = RapidSosGrantType.Password,
            Password = "topsecret",
        };

        Assert.That(string.Join("\n", Failures(options)), Does.Not.Contain("topsecret"));
    }
}

internal static class OptionsTestExtensions
{
    public static RapidSosAuthOptions With(this RapidSosAuthOptions options, Action<RapidSosAuthOptions> change)
    {
        change(options);
        return options;
    }
}
