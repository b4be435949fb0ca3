using Microsoft.Extensions.DependencyInjection;

namespace RapidSos.Http.Auth.Tests.Helpers;

/// <summary>A pass-through handler that only says who added it, to find it in a client's handler chain.</summary>
internal sealed class MarkerHandler(string label) : DelegatingHandler
{
    public string Label { get; } = label;

    /// <summary>The labels of the markers in the chain of the factory's client <paramref name="name"/>, outermost first.</summary>
    public static IReadOnlyList<string> In(IServiceProvider services, string name) =>
        Chain(services, name).OfType<MarkerHandler>().Select(m => m.Label).ToList();

    /// <summary>Every handler of the factory's client <paramref name="name"/>, outermost first, the primary one last.</summary>
    public static IEnumerable<HttpMessageHandler> Chain(IServiceProvider services, string name)
    {
        HttpMessageHandler? handler = services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(name);
        while (handler is not null)
        {
            yield return handler;
            handler = (handler as DelegatingHandler)?.InnerHandler;
        }
    }
}
