using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.DependencyInjection;

public class RapidSosAuthenticationServiceCollectionExtensionsTests
{
    private static ServiceProvider Build(Action<IServiceCollection> configure, StubTokenEndpoint endpoint, RecordingApiHandler? api = null)
    {
        var services = new ServiceCollection();
        configure(services);
        services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).ConfigurePrimaryHttpMessageHandler(() => endpoint);
        if (api is not null)
        {
            services.AddHttpClient("api").AddHttpMessageHandler<BearerTokenHandler>().ConfigurePrimaryHttpMessageHandler(() => api);
        }

        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private static void Credentials(RapidSosAuthOptions o)
    {
        o.BaseAddress = new Uri("https://api.test.example/");
        o.ClientId = "client-1";
        o.ClientSecret = "secret-1";
    }

    [Test]
    public async Task AddHttpMessageHandler_DefaultRegistration_AuthenticatesExistingTypedClient()
    {
        var endpoint = new StubTokenEndpoint();
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(Credentials);
        services.AddHttpClient<LegacyAlertsClient>(c => c.BaseAddress = new Uri("https://api.test.example/"))
            .AddHttpMessageHandler<BearerTokenHandler>()
            .ConfigurePrimaryHttpMessageHandler(() => new RecordingApiHandler());
        services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).ConfigurePrimaryHttpMessageHandler(() => endpoint);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var status = await provider.GetRequiredService<LegacyAlertsClient>().PingAsync();

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(endpoint.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public void BearerTokenHandler_DefaultRegistration_IsResolvableAndTransient()
    {
        using var provider = Build(s => s.AddRapidSosAuthentication(Credentials), new StubTokenEndpoint());

        var first = provider.GetRequiredService<BearerTokenHandler>();
        var second = provider.GetRequiredService<BearerTokenHandler>();

        Assert.That(first, Is.Not.SameAs(second));
        Assert.That(provider.GetRequiredService<ITokenProvider>(), Is.SameAs(provider.GetRequiredKeyedService<ITokenProvider>("")));
    }

    [Test]
    public async Task AddRapidSosBearerToken_NamedRegistrations_UseTheirOwnCredentialsAndBaseAddress()
    {
        var endpoint = new StubTokenEndpoint();
        var api = new RecordingApiHandler();
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication("alerts", o => { Credentials(o); o.ClientId = "alerts-client"; o.Scope = "alerts"; });
        services.AddRapidSosAuthentication("data", o => { Credentials(o); o.ClientId = "data-client"; });
        services.AddHttpClient("alerts").AddRapidSosBearerToken("alerts").ConfigurePrimaryHttpMessageHandler(() => api);
        services.AddHttpClient("data").AddRapidSosBearerToken("data").ConfigurePrimaryHttpMessageHandler(() => api);
        services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).ConfigurePrimaryHttpMessageHandler(() => endpoint);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        using var alerts = factory.CreateClient("alerts");
        using var data = factory.CreateClient("data");
        await alerts.GetAsync("v1/ping");
        await data.GetAsync("v1/ping");

        Assert.That(alerts.BaseAddress, Is.EqualTo(new Uri("https://api.test.example/")));
        Assert.That(endpoint.Requests.Select(r => r.Form["client_id"]), Is.EquivalentTo(new[] { "alerts-client", "data-client" }));
        Assert.That(api.Sends.Select(s => s.Authorization), Is.EquivalentTo(new[] { "Bearer token-1", "Bearer token-2" }));
    }

    [Test]
    public void AddRapidSosBearerToken_UnknownRegistration_ThrowsClearError()
    {
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(Credentials);
        services.AddHttpClient("x").AddRapidSosBearerToken("missing");
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IHttpClientFactory>().CreateClient("x"));

        Assert.That(ex!.Message, Does.Contain("No RapidSOS registration named 'missing'"));
    }

    [Test]
    public void BearerTokenHandler_NoDefaultRegistration_ThrowsClearError()
    {
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication("named", Credentials);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<BearerTokenHandler>());

        Assert.That(ex!.Message, Does.Contain("No default RapidSOS registration"));
    }

    [Test]
    public async Task AddRapidSosAuthentication_Configuration_BindsAndReloadsRotatedSecret()
    {
        var endpoint = new StubTokenEndpoint();
        var source = new Dictionary<string, string?>
        {
            ["RapidSos:BaseAddress"] = "https://api.test.example/",
            ["RapidSos:ClientId"] = "client-1",
            ["RapidSos:ClientSecret"] = "old-secret",
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(source).Build();
        await using var provider = Build(s => s.AddRapidSosAuthentication(configuration.GetSection("RapidSos")), endpoint);
        var tokens = provider.GetRequiredService<ITokenProvider>();
        var old = await tokens.GetTokenAsync();

        configuration["RapidSos:ClientSecret"] = "new-secret";
        configuration.Reload();
        var fresh = await tokens.GetTokenAsync();

        Assert.That(fresh.Value, Is.Not.EqualTo(old.Value));
        Assert.That(endpoint.Requests.Select(r => r.Form["client_secret"]), Is.EqualTo(new[] { "old-secret", "new-secret" }));
    }

    [TestCase("RapidSos", "RapidSos:ClientSecret", "RapidSos__ClientSecret")]
    [TestCase("Vendor:RapidSos", "Vendor:RapidSos:ClientSecret", "Vendor__RapidSos__ClientSecret")]
    public void AddRapidSosAuthentication_ConfigurationMissingAValue_FailureNamesTheKeyAndTheEnvironmentVariable(string section, string key, string variable)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"{section}:BaseAddress"] = "https://api.test.example/",
            [$"{section}:ClientId"] = "client-1",
        }).Build();
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(configuration.GetSection(section));
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => _ = provider.GetRequiredService<IOptionsMonitor<RapidSosAuthOptions>>().Get(Options.DefaultName));

        Assert.That(ex!.Failures, Has.Some.Contains("ClientSecret is required").And.Contains($"configuration key '{key}', environment variable '{variable}'"));
    }

    [Test]
    public void AddRapidSosAuthentication_OptionsFromCode_FailureNamesNoConfigurationKey()
    {
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = new Uri("https://api.test.example/");
            o.ClientId = "client-1";
        });
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => _ = provider.GetRequiredService<IOptionsMonitor<RapidSosAuthOptions>>().Get(Options.DefaultName));

        Assert.That(ex!.Failures, Has.Some.Contains("ClientSecret is required").And.Not.Contains("configuration key"));
    }

    [Test]
    public void AddRapidSosAuthentication_InvalidOptionsWithHost_FailsAtStartNamingEveryProblem()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = new Uri("http://api.rapidsos.com/");
            o.ClientId = "id";
        });
        using var host = builder.Build();

        var ex = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.That(ex!.Failures, Has.Some.Contains("ClientSecret is required"));
        Assert.That(ex.Failures, Has.Some.Contains("BaseAddress must use https"));
    }

    [Test]
    public void AddRapidSosAuthentication_NullArguments_Throw()
    {
        var services = new ServiceCollection();
        Assert.Throws<ArgumentNullException>(() => services.AddRapidSosAuthentication((Action<RapidSosAuthOptions>)null!));
        Assert.Throws<ArgumentNullException>(() => services.AddRapidSosAuthentication((IConfiguration)null!));
        Assert.Throws<ArgumentNullException>(() => services.AddRapidSosAuthentication(null!, Credentials));
        Assert.Throws<ArgumentNullException>(() => ((IServiceCollection)null!).AddRapidSosAuthentication(Credentials));
        Assert.Throws<ArgumentNullException>(() => ((IHttpClientBuilder)null!).AddRapidSosBearerToken());
    }

    [Test]
    public void AddRapidSosAuthentication_CalledTwice_RegistersBackChannelOnce()
    {
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(Credentials);
        services.AddRapidSosAuthentication("other", Credentials);

        Assert.That(services.Count(d => d.ServiceType == typeof(ITokenProvider) && d.IsKeyedService), Is.EqualTo(2));
        Assert.That(services.Count(d => d.ServiceType == typeof(BearerTokenHandler)), Is.EqualTo(1));
    }

    [Test]
    public void AddRapidSosAuthentication_BackChannel_NeverFollowsRedirectsNorKeepsCookiesAndTimesOutAfter30s()
    {
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(Credentials);
        using var provider = services.BuildServiceProvider();

        var handler = provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(RapidSosAuthDefaults.TokenClientName);
        while (handler is DelegatingHandler delegating)
        {
            handler = delegating.InnerHandler!;
        }

        Assert.That(handler, Is.InstanceOf<SocketsHttpHandler>());
        var primary = (SocketsHttpHandler)handler;
        Assert.That(primary.AllowAutoRedirect, Is.False, "a redirected POST would carry the client secret to the redirect target");
        Assert.That(primary.UseCookies, Is.False);
        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient(RapidSosAuthDefaults.TokenClientName);
        Assert.That(client.Timeout, Is.EqualTo(TimeSpan.FromSeconds(30)));
    }

    [Test]
    public async Task HandlerRotation_NewHandlerInstances_DoNotRefetchTokens()
    {
        // IHttpClientFactory rotates handler chains (HandlerLifetime); each rotation resolves a new transient
        // BearerTokenHandler. The token cache must outlive them.
        var endpoint = new StubTokenEndpoint();
        await using var provider = Build(s => s.AddRapidSosAuthentication(Credentials), endpoint);

        for (var i = 0; i < 20; i++)
        {
            var handler = provider.GetRequiredService<BearerTokenHandler>();
            handler.InnerHandler = new RecordingApiHandler();
            using var client = new HttpClient(handler) { BaseAddress = new Uri("https://api.test.example/") };
            using var response = await client.GetAsync("v1/ping");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        Assert.That(endpoint.RequestCount, Is.EqualTo(1));
    }

    /// <summary>An existing typed client, written before OAuth2: it knows nothing about tokens.</summary>
    private sealed class LegacyAlertsClient(HttpClient http)
    {
        public async Task<HttpStatusCode> PingAsync()
        {
            using var response = await http.GetAsync("v1/ping");
            return response.StatusCode;
        }
    }
}
