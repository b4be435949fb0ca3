namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The <see cref="ITokenProvider"/> of one registration: a thin front for the <see cref="TokenLifecycle"/> of its
/// current credentials, which it takes from the <see cref="TokenLifecycleStore"/> (shared with every registration
/// that has the same credentials) and swaps when its own options change to other credentials.
/// </summary>
internal sealed class CachingTokenProvider : LifecycleFront, IDisposable
{
    private readonly object _gate = new();
    private readonly string _name;
    private readonly RapidSosOptionsChanges _changes;
    private readonly TokenLifecycleStore _store;
    private readonly TokenTelemetry _telemetry;
    private readonly IDisposable _subscription;
    private bool _disposed;

    public CachingTokenProvider(string name, RapidSosOptionsChanges changes, TokenLifecycleStore store, TokenTelemetry telemetry)
    {
        _name = name;
        _changes = changes;
        _store = store;
        _telemetry = telemetry;
        _subscription = changes.Subscribe(name, OnOptionsChanged);
    }

    public string Name => _name;

    /// <summary>Whether the registration has credentials of its own now, rather than only run-time ones.</summary>
    internal bool HasStaticCredentials => _changes.Monitor.Get(_name).HasStaticCredentials;

    /// <summary>Whether a token request is on the wire for this registration's credentials: for tests and the soak report.</summary>
    internal bool HasInflightRequest => Lifecycle?.State is { Request.IsSent: true } or { SideRequest: not null };

    public void Dispose()
    {
        TokenLifecycle? lifecycle;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            lifecycle = TakeLifecycle();
        }

        _subscription.Dispose();
        if (lifecycle is not null)
        {
            _store.Release(lifecycle, disposing: true);
        }
    }

    private protected override async Task<AccessToken> AcquireAsync(AccessToken? rejected, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Null: the lifecycle ended under this caller (its credentials were rotated away); ask the current one.
            if (await CurrentLifecycle().AcquireAsync(rejected, cancellationToken).ConfigureAwait(false) is { } token)
            {
                return token;
            }
        }
    }

    private protected override AccessToken Acquire(AccessToken? rejected, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (CurrentLifecycle().Acquire(rejected, cancellationToken) is { } token)
            {
                return token;
            }
        }
    }

    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The registration's options are invalid.</exception>
    /// <exception cref="ObjectDisposedException">The container was disposed.</exception>
    private TokenLifecycle CurrentLifecycle()
    {
        if (Lifecycle is { State.Ended: false } current)
        {
            return current;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Lifecycle is { State.Ended: false } raced)
            {
                return raced;
            }

            // IOptionsMonitor has validated these options; a bad configuration throws here, naming every problem.
            var options = _changes.Monitor.Get(_name);
            if (!options.HasStaticCredentials)
            {
                throw NoCredentials(_name);
            }

            var lifecycle = _store.Acquire(TokenRequestSettings.From(_name, options));
            if (Lifecycle is { } ended)
            {
                _store.Release(ended);
            }

            Lifecycle = lifecycle;
            return lifecycle;
        }
    }

    /// <summary>A registration with no credentials of its own was asked for its own token: the request carried none and no resolver chose one.</summary>
    internal static InvalidOperationException NoCredentials(string name) =>
        new($"{(name.Length == 0 ? "The default RapidSOS registration" : $"RapidSOS registration '{name}'")} has no ClientId and ClientSecret of its own, " +
            "and the request carried no credential: put one on the request with request.WithRapidSosCredential(credential), or register an " +
            $"{nameof(IRapidSosCredentialResolver)} with services.AddRapidSosCredentialResolver<TResolver>({(name.Length == 0 ? string.Empty : $"\"{name}\"")}). The request was not sent.");

    private void OnOptionsChanged(RapidSosAuthOptions options)
    {
        if (!options.HasStaticCredentials)
        {
            // Rotated to run-time credentials only: the current lifecycle, if any, is let go at the next call.
            TokenLifecycle? dropped;
            lock (_gate)
            {
                dropped = _disposed ? null : TakeLifecycle();
            }

            if (dropped is not null)
            {
                _store.Release(dropped);
            }

            return;
        }

        var settings = TokenRequestSettings.From(_name, options);
        TokenLifecycle superseded;
        lock (_gate)
        {
            if (_disposed || Lifecycle is not { } current || current.Key.Equals(settings.Key))
            {
                // Not started yet (the first caller reads the new options), or the same credentials.
                return;
            }

            superseded = current;
            Lifecycle = _store.Acquire(settings);
        }

        // The superseded token is dropped and its timer stopped, unless another registration still uses it.
        _store.Release(superseded);
        _telemetry.CredentialsChanged(_name);
    }
}
