using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;

namespace RapidSos.Http.Auth.Http8Tests;

/// <summary>
/// HttpClient's own Trace logging, as Microsoft.Extensions.Http 8.x writes it (it redacts no header unless told
/// to), must show <c>Authorization: *</c> for the token client's Basic credentials and the API clients' bearer
/// token. Every test runs the library against a loopback gateway with every log captured and searches the text
/// for the secret, the Basic value and every token the gateway issued.
/// </summary>
public class HttpClientLoggingRedactionTests
{
    private const string ClientId = "redaction-client";
    private const string Secret = "s3cret-redaction-value";
    private static readonly string BasicValue = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ClientId}:{Secret}"));

    [Test]
    public void MicrosoftExtensionsHttp_AsResolvedForThisProject_IsVersion8()
    {
        var version = typeof(HttpClientFactoryOptions).Assembly.GetName().Version!;

        Assert.That(version.Major, Is.EqualTo(8), "this project exists to run the library on Microsoft.Extensions.Http 8.x");
    }

    [TestCase(RapidSosClientAuthentication.FormFields)]
    [TestCase(RapidSosClientAuthentication.BasicHeader)]
    public async Task AddRapidSosBearerToken_TraceLogging_NeverShowsTheCredentials(RapidSosClientAuthentication clientAuthentication)
    {
        await using var gateway = new LoopbackGateway();
        var logs = new CapturingLoggerProvider();
        await using var services = Build(gateway, logs, clientAuthentication, s => s.AddHttpClient("api").AddRapidSosBearerToken());

        await CallWithOne401Async(gateway, services.GetRequiredService<IHttpClientFactory>().CreateClient("api"));

        AssertNoCredentials(gateway, logs);
        Assert.That(logs.TextOf("HttpClient.api.ClientHandler"), Does.Contain("Authorization: *"), "the API client's headers were logged, redacted");
        if (clientAuthentication == RapidSosClientAuthentication.BasicHeader)
        {
            Assert.That(gateway.TokenRequestAuthorizations, Has.All.EqualTo("Basic " + BasicValue), "the secret went out in a Basic header");
            Assert.That(logs.TextOf($"HttpClient.{RapidSosAuthDefaults.TokenClientName}.LogicalHandler"), Does.Contain("Authorization: *"));
            Assert.That(logs.TextOf($"HttpClient.{RapidSosAuthDefaults.TokenClientName}.ClientHandler"), Does.Contain("Authorization: *"));
        }
    }

    [Test]
    public async Task AddHttpMessageHandlerOfBearerTokenHandler_TraceLogging_NeverShowsTheCredentials()
    {
        await using var gateway = new LoopbackGateway();
        var logs = new CapturingLoggerProvider();
        await using var services = Build(gateway, logs, RapidSosClientAuthentication.BasicHeader, s => s
            .AddHttpClient("api", c => c.BaseAddress = gateway.BaseAddress)
            .AddHttpMessageHandler<BearerTokenHandler>());

        await CallWithOne401Async(gateway, services.GetRequiredService<IHttpClientFactory>().CreateClient("api"));

        AssertNoCredentials(gateway, logs);
        Assert.That(logs.TextOf("HttpClient.api.ClientHandler"), Does.Contain("Authorization: *"));
    }

    [Test]
    public async Task RedactLoggedHeadersOfTheApplication_TraceLogging_RedactsTheApplicationsHeadersAndTheCredentials()
    {
        await using var gateway = new LoopbackGateway();
        var logs = new CapturingLoggerProvider();
        await using var services = Build(gateway, logs, RapidSosClientAuthentication.BasicHeader, s =>
        {
            s.AddHttpClient("api", c =>
                {
                    c.DefaultRequestHeaders.Add("X-Other", "other-value");
                    c.DefaultRequestHeaders.Add("X-Plain", "plain-value");
                })
                .AddRapidSosBearerToken()
                .RedactLoggedHeaders(["X-Other"]);

            // Registered after the library, as an application would: the back channel's header list replaced too.
            s.AddHttpClient(RapidSosAuthDefaults.TokenClientName).RedactLoggedHeaders(["X-Other"]);
        });

        await CallWithOne401Async(gateway, services.GetRequiredService<IHttpClientFactory>().CreateClient("api"));

        AssertNoCredentials(gateway, logs);
        var api = logs.TextOf("HttpClient.api.ClientHandler");
        Assert.That(api, Does.Contain("Authorization: *"));
        Assert.That(api, Does.Contain("X-Other: *").And.Not.Contain("other-value"), "the application's own redaction still holds");
        Assert.That(api, Does.Contain("X-Plain: plain-value"), "a header nobody redacts is still logged, as 8.x does");
    }

    private static ServiceProvider Build(
        LoopbackGateway gateway,
        CapturingLoggerProvider logs,
        RapidSosClientAuthentication clientAuthentication,
        Action<IServiceCollection> addClients)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = gateway.BaseAddress;
            o.ClientId = ClientId;
            o.ClientSecret = Secret;
            o.ClientAuthentication = clientAuthentication;
        });

        // The library turns HttpClient's logging off on its back channel; an application can turn it back on,
        // and then the Basic header must still not show.
        services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).AddDefaultLogger();
        addClients(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    /// <summary>A call, then one that meets a 401 (the token is revoked) and is resent with a new token, then a third.</summary>
    private static async Task CallWithOne401Async(LoopbackGateway gateway, HttpClient api)
    {
        using (var first = await api.GetAsync("v1/ping"))
        {
            Assert.That((int)first.StatusCode, Is.EqualTo(200));
        }

        gateway.Revoke(gateway.IssuedTokens.Single());
        using (var retried = await api.GetAsync("v1/ping"))
        {
            Assert.That((int)retried.StatusCode, Is.EqualTo(200), "the 401 was answered with a new token");
        }

        using (var third = await api.GetAsync("v1/ping"))
        {
            Assert.That((int)third.StatusCode, Is.EqualTo(200));
        }

        Assert.That(gateway.IssuedTokens, Has.Count.EqualTo(2));
    }

    private static void AssertNoCredentials(LoopbackGateway gateway, CapturingLoggerProvider logs)
    {
        var text = logs.Text;
        Assert.That(text, Does.Contain("System.Net.Http.HttpClient."), "HttpClient's own logging ran");
        Assert.That(text, Does.Not.Contain(Secret));
        Assert.That(text, Does.Not.Contain(Uri.EscapeDataString(Secret)));
        Assert.That(text, Does.Not.Contain(BasicValue));
        Assert.That(text, Does.Not.Contain("issued-"), "no token the gateway issued may appear");
        foreach (var token in gateway.IssuedTokens)
        {
            Assert.That(text, Does.Not.Contain(token));
        }
    }
}
