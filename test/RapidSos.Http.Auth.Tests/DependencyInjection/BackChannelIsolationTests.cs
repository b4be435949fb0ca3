using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Http.Resilience;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.DependencyInjection;

/// <summary>
/// The token client is the library's own: handlers configured for every client (ConfigureHttpClientDefaults, as in
/// .NET Aspire's service defaults, or ConfigureAll) stay off it, whatever the order of registration; handlers
/// configured for its name stay on it.
/// </summary>
public class BackChannelIsolationTests
{
    private const string Token = RapidSosAuthDefaults.TokenClientName;

    private static void Credentials(RapidSosAuthOptions o)
    {
        o.BaseAddress = new Uri("https://api.test.example/");
        o.ClientId = "client-1";
        o.ClientSecret = "secret-1";
    }

    private static ServiceProvider Build(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        configure(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    [TestCase(true)]
    [TestCase(false)]
    public void TokenClient_ClientDefaultsAddHandler_NotOnTokenClientButOnOthers(bool defaultsFirst)
    {
        using var provider = Build(s =>
        {
            if (defaultsFirst)
            {
                s.ConfigureHttpClientDefaults(h => h.AddHttpMessageHandler(() => new MarkerHandler("defaults")));
            }

            s.AddRapidSosAuthentication(Credentials);
            s.AddHttpClient("api").AddRapidSosBearerToken();
            if (!defaultsFirst)
            {
                s.ConfigureHttpClientDefaults(h => h.AddHttpMessageHandler(() => new MarkerHandler("defaults")));
            }
        });

        Assert.That(MarkerHandler.In(provider, Token), Is.Empty);
        Assert.That(MarkerHandler.In(provider, "api"), Is.EqualTo(new[] { "defaults" }));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void TokenClient_HandlerConfiguredForItsName_KeptBesideDefaults(bool explicitFirst)
    {
        using var provider = Build(s =>
        {
            s.ConfigureHttpClientDefaults(h => h.AddHttpMessageHandler(() => new MarkerHandler("defaults")));
            if (explicitFirst)
            {
                s.AddHttpClient(Token).AddHttpMessageHandler(() => new MarkerHandler("explicit"));
            }

            s.AddRapidSosAuthentication(Credentials);
            if (!explicitFirst)
            {
                s.AddHttpClient(Token).AddHttpMessageHandler(() => new MarkerHandler("explicit"));
            }
        });

        Assert.That(MarkerHandler.In(provider, Token), Is.EqualTo(new[] { "explicit" }));
    }

    [Test]
    public void TokenClient_ConfigureAllAddsHandler_NotOnTokenClient()
    {
        using var provider = Build(s =>
        {
            s.AddRapidSosAuthentication(Credentials);
            s.ConfigureAll<HttpClientFactoryOptions>(o => o.HttpMessageHandlerBuilderActions.Add(b => b.AdditionalHandlers.Add(new MarkerHandler("all"))));
            s.AddHttpClient("api");
        });

        Assert.That(MarkerHandler.In(provider, Token), Is.Empty);
        Assert.That(MarkerHandler.In(provider, "api"), Is.EqualTo(new[] { "all" }));
    }

    [Test]
    public void TokenClient_SameDefaultsTwice_BothRemoved()
    {
        using var provider = Build(s =>
        {
            s.ConfigureHttpClientDefaults(h => h.AddHttpMessageHandler(() => new MarkerHandler("first")).AddHttpMessageHandler(() => new MarkerHandler("second")));
            s.AddRapidSosAuthentication(Credentials);
            s.AddHttpClient(Token).AddHttpMessageHandler(() => new MarkerHandler("explicit"));
        });

        Assert.That(MarkerHandler.In(provider, Token), Is.EqualTo(new[] { "explicit" }));
    }

    [Test]
    public void TokenClient_AspireStyleStandardResilienceDefaults_NoResilienceHandler()
    {
        using var provider = Build(s =>
        {
            s.ConfigureHttpClientDefaults(h => h.AddStandardResilienceHandler());
            s.AddRapidSosAuthentication(Credentials);
            s.AddHttpClient("api").AddRapidSosBearerToken();
        });

        Assert.That(MarkerHandler.Chain(provider, Token).OfType<ResilienceHandler>(), Is.Empty);
        Assert.That(MarkerHandler.Chain(provider, "api").OfType<ResilienceHandler>().Count(), Is.EqualTo(1));
    }

    [Test]
    public void TokenClient_StandardResilienceConfiguredForItsName_KeptBesideDefaults()
    {
        using var provider = Build(s =>
        {
            s.ConfigureHttpClientDefaults(h => h.AddStandardResilienceHandler());
            s.AddRapidSosAuthentication(Credentials);
            s.AddHttpClient(Token).AddStandardResilienceHandler();
        });

        Assert.That(MarkerHandler.Chain(provider, Token).OfType<ResilienceHandler>().Count(), Is.EqualTo(1));
    }

    [Test]
    public void TokenClient_ClientDefaultsSetPrimaryHandler_OwnPrimaryHandlerKept()
    {
        using var provider = Build(s =>
        {
            s.ConfigureHttpClientDefaults(h => h.ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = true }));
            s.AddRapidSosAuthentication(Credentials);
        });

        var primary = MarkerHandler.Chain(provider, Token).Last();

        Assert.That(primary, Is.TypeOf<SocketsHttpHandler>());
        Assert.That(((SocketsHttpHandler)primary).AllowAutoRedirect, Is.False, "a redirected POST would carry the client secret");
    }

    [Test]
    public void TokenClient_NoDefaults_OwnConfigurationUntouched()
    {
        using var provider = Build(s =>
        {
            s.AddRapidSosAuthentication(Credentials);
            s.AddHttpClient(Token).AddHttpMessageHandler(() => new MarkerHandler("explicit"));
        });

        Assert.That(MarkerHandler.In(provider, Token), Is.EqualTo(new[] { "explicit" }));
        Assert.That(MarkerHandler.Chain(provider, Token).Last(), Is.TypeOf<SocketsHttpHandler>());
    }
}
