using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Tests.Internal;

/// <summary>
/// The credential headers are redacted in HttpClient's own logging whatever the client's predicate says, and every
/// other header as that predicate says. On the Microsoft.Extensions.Http this project resolves (10.x, which redacts
/// every header by default) an application's own <c>RedactLoggedHeaders</c> list replaces that default; the
/// credentials must stay redacted all the same. The 8.x behaviour is tested in RapidSos.Http.Auth.Http8Tests.
/// </summary>
public class CredentialHeaderRedactionTests
{
    [TestCase("Authorization")]
    [TestCase("authorization")]
    [TestCase("Proxy-Authorization")]
    [TestCase("PROXY-AUTHORIZATION")]
    public void PostConfigure_CredentialHeader_RedactedWithoutAskingTheClientsPredicate(string header)
    {
        var options = new HttpClientFactoryOptions { ShouldRedactHeaderValue = _ => throw new InvalidOperationException("the application's predicate is broken") };

        new CredentialHeaderRedaction().PostConfigure("api", options);

        Assert.That(options.ShouldRedactHeaderValue(header), Is.True);
    }

    [TestCase("X-Other", true)]
    [TestCase("X-Other", false)]
    [TestCase("WWW-Authenticate", false)]
    [TestCase("Authorization-Hint", false)]
    public void PostConfigure_OtherHeader_AsTheClientsPredicateSays(string header, bool redactedBefore)
    {
        var options = new HttpClientFactoryOptions { ShouldRedactHeaderValue = h => h == header && redactedBefore };

        new CredentialHeaderRedaction().PostConfigure("api", options);

        Assert.That(options.ShouldRedactHeaderValue(header), Is.EqualTo(redactedBefore));
    }

    [Test]
    public void AddRapidSosAuthentication_TwoRegistrations_OneRedaction()
    {
        var services = new ServiceCollection();

        services.AddRapidSosAuthentication(o => o.ClientId = "a");
        services.AddRapidSosAuthentication("second", o => o.ClientId = "b");

        Assert.That(services.Count(d => d.ImplementationType == typeof(CredentialHeaderRedaction)), Is.EqualTo(1));
    }

    [Test]
    public async Task RedactLoggedHeadersOfTheApplication_TraceLogging_NeverShowsTheCredentials()
    {
        var gatewayOptions = new RapidSosGatewayEmulatorOptions();
        await using var gateway = await RapidSosGatewayEmulator.StartAsync(gatewayOptions);
        var logs = new FakeLogCollector();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(logs)));
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = gateway.BaseAddress;
            o.ClientId = gatewayOptions.ClientId;
            o.ClientSecret = gatewayOptions.ClientSecret;
            o.ClientAuthentication = RapidSosClientAuthentication.BasicHeader;
        });
        services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).AddDefaultLogger().RedactLoggedHeaders(["X-Other"]);
        services.AddHttpClient("api").AddRapidSosBearerToken().RedactLoggedHeaders(["X-Other"]);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var api = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");

        using (await api.GetAsync("v1/ping"))
        {
        }

        gateway.RejectAllTokens = true;
        using (await api.GetAsync("v1/ping"))
        {
        }

#if NET9_0_OR_GREATER
        Assert.That(typeof(HttpClientFactoryOptions).Assembly.GetName().Version!.Major, Is.GreaterThanOrEqualTo(9));
#else
        // net8.0: the ASP.NET Core 8 framework brings Microsoft.Extensions.Http 8, which redacts no header unless told to.
        Assert.That(typeof(HttpClientFactoryOptions).Assembly.GetName().Version!.Major, Is.EqualTo(8));
#endif
        Assert.That(gateway.IssuedTokens, Has.Count.EqualTo(2), "the 401 was answered with a new token");

        // Messages and scopes, what a text sink writes. Not the structured state: Microsoft.Extensions.Http passes the
        // header list there with raw values on every version, and no redaction setting reaches it.
        var records = logs.GetSnapshot();
        string TextOf(string category) => string.Join("\n", records
            .Where(r => r.Category == $"System.Net.Http.HttpClient.{category}.ClientHandler")
            .Select(r => r.Message));
        var text = string.Join("\n", records.Select(r => $"{r.Message} {string.Join("; ", r.Scopes)}"));
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{gatewayOptions.ClientId}:{gatewayOptions.ClientSecret}"));
        Assert.That(TextOf(RapidSosAuthDefaults.TokenClientName), Does.Contain("Request Headers:").And.Contain("Authorization: *"));
        Assert.That(TextOf("api"), Does.Contain("Request Headers:").And.Contain("Authorization: *"));
        Assert.That(text, Does.Not.Contain(basic).And.Not.Contain(gatewayOptions.ClientSecret));
        foreach (var token in gateway.IssuedTokens)
        {
            Assert.That(text, Does.Not.Contain(token));
        }
    }
}
