using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;

namespace RapidSos.Http.Auth.Http8Tests;

/// <summary>
/// On Microsoft.Extensions.Http 8.x and Microsoft.Extensions.Http.Resilience 8.x, as a .NET 8 Aspire app resolves
/// them: the standard resilience handler configured for every client stays off the library's token client, and one
/// configured for the token client's name stays on it.
/// </summary>
public class BackChannelIsolationTests
{
    private static ServiceProvider Build(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        services.ConfigureHttpClientDefaults(h => h.AddStandardResilienceHandler());
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = new Uri("https://api.test.example/");
            o.ClientId = "client-1";
            o.ClientSecret = "secret-1";
        });
        configure(services);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private static int ResilienceHandlers(IServiceProvider services, string name)
    {
        var count = 0;
        for (HttpMessageHandler? h = services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(name); h is not null; h = (h as DelegatingHandler)?.InnerHandler)
        {
            // By name: the type is marked experimental (EXTEXP0001) in 8.x.
            count += h.GetType().FullName == "Microsoft.Extensions.Http.Resilience.ResilienceHandler" ? 1 : 0;
        }

        return count;
    }

    [Test]
    public void MicrosoftExtensionsHttpResilience_AsResolvedForThisProject_IsVersion8()
    {
        Assert.That(typeof(HttpStandardResilienceOptions).Assembly.GetName().Version!.Major, Is.EqualTo(8));
    }

    [Test]
    public void TokenClient_StandardResilienceForEveryClient_NotOnTokenClientButOnOthers()
    {
        using var services = Build(s => s.AddHttpClient("api").AddRapidSosBearerToken());

        Assert.That(ResilienceHandlers(services, RapidSosAuthDefaults.TokenClientName), Is.Zero);
        Assert.That(ResilienceHandlers(services, "api"), Is.EqualTo(1));
    }

    [Test]
    public void TokenClient_StandardResilienceForItsName_KeptBesideDefaults()
    {
        using var services = Build(s => s.AddHttpClient(RapidSosAuthDefaults.TokenClientName).AddStandardResilienceHandler());

        Assert.That(ResilienceHandlers(services, RapidSosAuthDefaults.TokenClientName), Is.EqualTo(1));
    }
}
