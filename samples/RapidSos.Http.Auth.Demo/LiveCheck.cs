using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RapidSos.Http.Auth.Demo;

/// <summary>
/// <c>--live</c>: fetches a real token from RapidSOS with credentials from environment variables or user-secrets,
/// and reports the outcome in one line. Never prints the secret, the password or the token.
/// </summary>
internal static class LiveCheck
{
    public static async Task<int> RunAsync()
    {
        var configuration = new ConfigurationBuilder()
            .AddUserSecrets(typeof(LiveCheck).Assembly, optional: true)
            .AddEnvironmentVariables()
            .Build()
            .GetSection("RapidSos");

        if (string.IsNullOrWhiteSpace(configuration["ClientId"]) || string.IsNullOrWhiteSpace(configuration["ClientSecret"]))
        {
            Out.Error("--live needs RapidSos__ClientId and RapidSos__ClientSecret (environment variables) or " +
                      "'dotnet user-secrets set RapidSos:ClientId ...' in samples/RapidSos.Http.Auth.Demo; see the README.");
            return 2;
        }

        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(configuration);
        await using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<RapidSosAuthOptions>>();
        try
        {
            var settings = options.Get(Options.DefaultName);
            var token = await provider.GetRequiredService<ITokenProvider>().GetTokenAsync();
            Console.WriteLine($"OK: {settings.GrantType} token for client '{settings.ClientId}' from {settings.TokenEndpoint ?? settings.BaseAddress}; expires at {token.ExpiresAt:u} (in {token.ExpiresAt - DateTimeOffset.UtcNow:hh\\:mm\\:ss}).");
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            Out.Error(string.Join(" ", ex.Failures));
            return 2;
        }
        catch (RapidSosAuthenticationException ex)
        {
            Out.Error(ex.Message);
            return 1;
        }
    }
}
