using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace RapidSos.Http.Auth.Internal;

/// <summary>The names of the RapidSOS registrations in a container.</summary>
internal sealed class RapidSosRegistrations
{
    public List<string> Names { get; } = [];
}

/// <summary>
/// Fetches the first token of every registration with <see cref="RapidSosAuthOptions.AcquireTokenOnStart"/>
/// while the host starts; a failure stops the start with the gateway's message.
/// </summary>
internal sealed class TokenWarmupService : IHostedService
{
    private readonly IServiceProvider _services;
    private readonly RapidSosRegistrations _registrations;
    private readonly IOptionsMonitor<RapidSosAuthOptions> _options;

    public TokenWarmupService(IServiceProvider services, RapidSosRegistrations registrations, IOptionsMonitor<RapidSosAuthOptions> options)
    {
        _services = services;
        _registrations = registrations;
        _options = options;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var warmups = _registrations.Names
            .Distinct()
            // Run-time credential sets are not known at start: only a registration's own credentials are warmed up.
            .Where(name => _options.Get(name) is { AcquireTokenOnStart: true, HasStaticCredentials: true })
            .Select(name => _services.GetRequiredKeyedService<ITokenProvider>(name).GetTokenAsync(cancellationToken).AsTask())
            .ToArray();
        if (warmups.Length > 0)
        {
            await Task.WhenAll(warmups).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
