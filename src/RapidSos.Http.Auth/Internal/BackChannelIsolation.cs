using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Keeps application-wide handler configuration off the token client (<see cref="RapidSosAuthDefaults.TokenClientName"/>):
/// what <c>ConfigureHttpClientDefaults</c> (or <c>ConfigureAll&lt;HttpClientFactoryOptions&gt;</c>) adds to every
/// client, such as the standard resilience handler .NET Aspire's service defaults add, would wrap the library's token
/// requests in a retry, timeout or hedging pipeline the library did not choose, multiplying the token requests of every
/// failing call and replacing the gateway's answer with a pipeline timeout. What is configured for the token client by
/// name (<c>services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).AddStandardResilienceHandler()</c>) stays.
/// </summary>
/// <remarks>
/// <para>
/// Application-wide configuration is told apart from the token client's own by what it produces, not by where it was
/// registered: the factory's options for a client name nobody configures (the probe) hold exactly the actions that
/// apply to every client. Each of those is removed once from the token client's
/// <see cref="HttpClientFactoryOptions.HttpMessageHandlerBuilderActions"/>; a delegate is recognised by
/// <see cref="Delegate.Equals(object)"/> (the same method on the same closure), since <c>AddHttpMessageHandler</c> and
/// its kin build a new delegate over one closure each time the options are built. Actions configured for the token
/// client's name are never in the probe, whichever was registered first.
/// </para>
/// <para>
/// Only handler-builder actions are removed: additional handlers and any primary-handler setting (which the token
/// client's own <c>ConfigurePrimaryHttpMessageHandler</c> replaces anyway). <see cref="HttpClientFactoryOptions.HttpClientActions"/>
/// (default headers, say) stay, and the token client's own 30 s <see cref="HttpClient.Timeout"/>, set by name, wins
/// over a default timeout. As a post-configuration, it runs after every <c>Configure</c>; an action another
/// post-configuration adds later is not seen.
/// </para>
/// </remarks>
internal sealed class BackChannelIsolation : IPostConfigureOptions<HttpClientFactoryOptions>
{
    /// <summary>A client name nobody configures: its options are the application-wide configuration and nothing else.</summary>
    internal const string ProbeName = RapidSosAuthDefaults.TokenClientName + ".ApplicationDefaults";

    private readonly IServiceProvider _services;

    public BackChannelIsolation(IServiceProvider services) => _services = services;

    public void PostConfigure(string? name, HttpClientFactoryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.Equals(name, RapidSosAuthDefaults.TokenClientName, StringComparison.Ordinal) || options.HttpMessageHandlerBuilderActions.Count == 0)
        {
            return;
        }

        // A new factory each time (it is transient): the options of one name are built once and cached by the monitor.
        var defaults = _services.GetRequiredService<IOptionsFactory<HttpClientFactoryOptions>>().Create(ProbeName);
        RemoveEach(options.HttpMessageHandlerBuilderActions, defaults.HttpMessageHandlerBuilderActions);
    }

    /// <summary>Removes from <paramref name="actions"/> the first equal delegate of each of <paramref name="applicationWide"/>.</summary>
    internal static void RemoveEach(IList<Action<HttpMessageHandlerBuilder>> actions, IList<Action<HttpMessageHandlerBuilder>> applicationWide)
    {
        foreach (var shared in applicationWide)
        {
            for (var i = 0; i < actions.Count; i++)
            {
                if (actions[i].Equals(shared))
                {
                    actions.RemoveAt(i);
                    break;
                }
            }
        }
    }
}
