using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Helpers;

/// <summary>
/// The real DI registration with the back channel pointed at a <see cref="StubTokenEndpoint"/>, time on a
/// <see cref="FakeTimeProvider"/> and every log captured at Trace level.
/// </summary>
internal sealed class ProviderHarness : IDisposable
{
    public const string Secret = "s3cr3t-value-p@ss&word=+% é";
    public const string UserPassword = "user-pa55word-&=+ %";

    private readonly ServiceProvider _services;

    public ProviderHarness(Action<RapidSosAuthOptions>? configure = null, Action<IServiceCollection>? services = null, string name = "", FakeTimeProvider? time = null)
    {
        Time = time ?? new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
        var collection = new ServiceCollection();
        collection.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(Logs)));
        collection.AddSingleton<TimeProvider>(Time);
        collection.AddMetrics();
        collection.AddRapidSosAuthentication(name, o =>
        {
            o.BaseAddress = new Uri("https://api.test.example/");
            o.ClientId = "client-1";
            o.ClientSecret = Secret;
            configure?.Invoke(o);
        });
        collection.AddHttpClient(RapidSosAuthDefaults.TokenClientName).ConfigurePrimaryHttpMessageHandler(() => Endpoint);
        services?.Invoke(collection);
        _services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        Name = name;

        // Delays exactly as the retry rules' table says (jitter at its midpoint, a factor of 1).
        _services.GetRequiredService<TokenLifecycleStore>().Jitter = static () => 0.5;

        // Least recently used on the fake clock, so a test orders uses by advancing time instead of sleeping.
        _services.GetRequiredKeyedService<CredentialSets>(name).Milliseconds = () => Time.GetUtcNow().ToUnixTimeMilliseconds();
    }

    public string Name { get; }

    public FakeTimeProvider Time { get; }

    public StubTokenEndpoint Endpoint { get; } = new();

    public FakeLogCollector Logs { get; } = new();

    public IServiceProvider Services => _services;

    public ITokenProvider Provider => _services.GetRequiredKeyedService<ITokenProvider>(Name);

    public CachingTokenProvider Caching => (CachingTokenProvider)Provider;

    public IMemoryCache Cache => _services.GetRequiredService<IMemoryCache>();

    public IOptionsMonitor<RapidSosAuthOptions> Options => _services.GetRequiredService<IOptionsMonitor<RapidSosAuthOptions>>();

    public string AllLogText => string.Join("\n", Logs.GetSnapshot().Select(r => r.Message + " " + r.Exception));

    /// <summary>Adds a second registration, <paramref name="name"/>, with exactly the harness's credentials.</summary>
    public static IServiceCollection AddSameCredentials(IServiceCollection services, string name) =>
        services.AddRapidSosAuthentication(name, o =>
        {
            o.BaseAddress = new Uri("https://api.test.example/");
            o.ClientId = "client-1";
            o.ClientSecret = Secret;
        });

    public void Dispose() => _services.Dispose();
}
