using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// One subscription to <see cref="IOptionsMonitor{TOptions}"/> changes for the whole container, handed to the one
/// provider of the registration that changed: a reload costs the same with 1 or 2,000 registrations, per
/// registration that changed, instead of every provider hearing about every registration.
/// </summary>
internal sealed class RapidSosOptionsChanges : IDisposable
{
    private readonly ConcurrentDictionary<string, Action<RapidSosAuthOptions>> _listeners = new(StringComparer.Ordinal);
    private readonly IDisposable? _subscription;

    public RapidSosOptionsChanges(IOptionsMonitor<RapidSosAuthOptions> monitor)
    {
        Monitor = monitor;
        _subscription = monitor.OnChange(Dispatch);
    }

    public IOptionsMonitor<RapidSosAuthOptions> Monitor { get; }

    /// <summary>Calls <paramref name="listener"/> with the new options of <paramref name="name"/> whenever they change.</summary>
    public IDisposable Subscribe(string name, Action<RapidSosAuthOptions> listener)
    {
        _listeners[name] = listener;
        return new Subscription(this, name, listener);
    }

    public void Dispose() => _subscription?.Dispose();

    private void Dispatch(RapidSosAuthOptions options, string? name)
    {
        if (_listeners.TryGetValue(name ?? Options.DefaultName, out var listener))
        {
            listener(options);
        }
    }

    private sealed class Subscription(RapidSosOptionsChanges owner, string name, Action<RapidSosAuthOptions> listener) : IDisposable
    {
        public void Dispose() => owner._listeners.TryRemove(new KeyValuePair<string, Action<RapidSosAuthOptions>>(name, listener));
    }
}
