namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// One run-time credential set of a registration: the <see cref="ITokenProvider"/> the handler uses for requests
/// that carry those credentials, a thin front for the set's <see cref="TokenLifecycle"/> (shared through the
/// <see cref="TokenLifecycleStore"/> with anything else using identical credentials).
/// </summary>
/// <remarks>
/// Once dropped (least recently used, <see cref="IRapidSosTokenCache.Remove"/>, or its registration's endpoints
/// changed) it lets go of its lifecycle, and with it the token and the request settings that hold the secret; a
/// caller still holding it is served by a fresh set for the same credentials.
/// </remarks>
internal sealed class CredentialSet : LifecycleFront
{
    private readonly CredentialSets _owner;
    private volatile RapidSosCredential? _credential;
    private long _lastUsed;

    public CredentialSet(CredentialSets owner, RegistrationEndpoints endpoints, CredentialKey key, RapidSosCredential credential, TokenLifecycle lifecycle)
    {
        _owner = owner;
        Endpoints = endpoints;
        Key = key;
        _credential = credential;
        Lifecycle = lifecycle;
        _lastUsed = owner.Milliseconds();
    }

    public RegistrationEndpoints Endpoints { get; }

    public CredentialKey Key { get; }

    /// <summary>When it was last used, on <see cref="CredentialSets.Milliseconds"/>: for choosing the least recently used.</summary>
    public long LastUsed => Volatile.Read(ref _lastUsed);

    public bool IsOwnedBy(CredentialSets owner) => ReferenceEquals(_owner, owner);

    /// <summary>Whether this set still serves <paramref name="owner"/>'s credentials as its options are now.</summary>
    public bool IsCurrentIn(CredentialSets owner, RegistrationEndpoints endpoints) =>
        ReferenceEquals(_owner, owner) && ReferenceEquals(Endpoints, endpoints) && Lifecycle is not null;

    /// <summary>Marks the set used. Written at most every 16 ms or so, so a hot set is not a contended cache line.</summary>
    public void Touch()
    {
        var now = _owner.Milliseconds();
        if (now - Volatile.Read(ref _lastUsed) > 16)
        {
            Volatile.Write(ref _lastUsed, now);
        }
    }

    /// <summary>
    /// Lets go of the lifecycle (and so of the token and the settings that hold the secret) and returns it for the
    /// owner to release, once. Unless <paramref name="forget"/> (removed, disposed), a caller still holding the set
    /// is served by a new set for the same credentials.
    /// </summary>
    public TokenLifecycle? Drop(bool forget)
    {
        if (forget)
        {
            _credential = null;
        }

        return TakeLifecycle();
    }

    private protected override async Task<AccessToken> AcquireAsync(AccessToken? rejected, CancellationToken cancellationToken)
    {
        var set = this;
        while (true)
        {
            try
            {
                // Null: the lifecycle ended under this caller (the set was dropped); the current set for these credentials serves it.
                if (set.Lifecycle is { } lifecycle && await lifecycle.AcquireAsync(rejected, cancellationToken).ConfigureAwait(false) is { } token)
                {
                    return token;
                }
            }
            catch (RapidSosAuthenticationException) when (set.WasDroppedUnderCaller)
            {
                // Ending a lifecycle fails the callers waiting for a retry it had scheduled with its last failure; a
                // set dropped under them (least recently used, endpoints changed) must not turn that into their error.
            }

            set = set.Successor();
        }
    }

    private protected override AccessToken Acquire(AccessToken? rejected, CancellationToken cancellationToken)
    {
        var set = this;
        while (true)
        {
            try
            {
                if (set.Lifecycle is { } lifecycle && lifecycle.Acquire(rejected, cancellationToken) is { } token)
                {
                    return token;
                }
            }
            catch (RapidSosAuthenticationException) when (set.WasDroppedUnderCaller)
            {
            }

            set = set.Successor();
        }
    }

    /// <summary>Dropped while a caller was inside it, and not removed for good: a fresh set for the same credentials serves the caller.</summary>
    private bool WasDroppedUnderCaller => Lifecycle is null && _credential is not null;

    /// <exception cref="ObjectDisposedException">The set was dropped for good: its credentials were removed, or the container was disposed.</exception>
    private CredentialSet Successor() =>
        _credential is { } credential
            ? _owner.For(credential)
            : throw new ObjectDisposedException(nameof(IRapidSosTokenCache), "The RapidSOS credential set was removed (IRapidSosTokenCache.Remove) or its container disposed while this request waited for its token.");
}
