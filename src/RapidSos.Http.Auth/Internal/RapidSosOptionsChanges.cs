using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// One subscription to <see cref="IOptionsMonitor{TOptions}"/> changes for the whole container, handed to the
/// listeners of the registration that changed (its token provider and its allowed origins): a reload costs the
/// same with 1 or 2,000 registrations, per registration that changed, instead of every listener hearing about
/// every registration.
/// </summary>
internal sealed class RapidSosOptionsChanges : IDisposable
{
    // Copy on write: subscriptions are rare, dispatches read an array that never changes under them.
    private readonly ConcurrentDictionary<string, Action<RapidSosAuthOptions>[]> _listeners = new(StringComparer.Ordinal);
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
        _listeners.AddOrUpdate(name, static (_, added) => [added], static (_, existing, added) => [.. existing, added], listener);
        return new Subscription(this, name, listener);
    }

    public void Dispose() => _subscription?.Dispose();

    private void Dispatch(RapidSosAuthOptions options, string? name)
    {
        if (_listeners.TryGetValue(name ?? Options.DefaultName, out var listeners))
        {
            foreach (var listener in listeners)
            {
                listener(options);
            }
        }
    }

    private void Unsubscribe(string name, Action<RapidSosAuthOptions> listener)
    {
        while (_listeners.TryGetValue(name, out var existing))
        {
            var remaining = Array.FindAll(existing, l => !ReferenceEquals(l, listener));
            if (remaining.Length == existing.Length)
            {
                return;
            }

            var removed = remaining.Length == 0
                ? _listeners.TryRemove(new KeyValuePair<string, Action<RapidSosAuthOptions>[]>(name, existing))
                : _listeners.TryUpdate(name, remaining, existing);
            if (removed)
            {
                return;
            }
        }
    }

    private sealed class Subscription(RapidSosOptionsChanges owner, string name, Action<RapidSosAuthOptions> listener) : IDisposable
    {
        public void Dispose() => owner.Unsubscribe(name, listener);
    }
}
