namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// An <see cref="ITokenProvider"/> in front of one <see cref="TokenLifecycle"/> at a time: a cached token is one
/// volatile read and no allocation; anything else goes to the derived front's acquire loop, which knows where the
/// next lifecycle comes from when the current one ends under a caller (a registration's options, or a fresh
/// credential set).
/// </summary>
internal abstract class LifecycleFront : ITokenProvider, ISyncTokenProvider, IResendFeedback
{
    private TokenLifecycle? _lifecycle;

    /// <summary>The current lifecycle, once a token was asked for; null before, and once let go of.</summary>
    internal TokenLifecycle? Lifecycle
    {
        get => Volatile.Read(ref _lifecycle);
        private protected set => Volatile.Write(ref _lifecycle, value);
    }

    public ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default) =>
        Lifecycle?.TryGetCurrent() is { } token
            ? new ValueTask<AccessToken>(token)
            : new ValueTask<AccessToken>(AcquireAsync(rejected: null, cancellationToken));

    public AccessToken GetToken(CancellationToken cancellationToken) =>
        Lifecycle?.TryGetCurrent() ?? Acquire(rejected: null, cancellationToken);

    public ValueTask<AccessToken> RefreshTokenAsync(AccessToken rejected, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        return new ValueTask<AccessToken>(AcquireAsync(rejected, cancellationToken));
    }

    public AccessToken RefreshToken(AccessToken rejected, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rejected);
        return Acquire(rejected, cancellationToken);
    }

    public void ResendRejected(AccessToken replacement) => Lifecycle?.ResendRejected(replacement);

    public void ResendAccepted() => Lifecycle?.ResendAccepted();

    /// <summary>Lets go of the current lifecycle and returns it, once, whoever calls.</summary>
    private protected TokenLifecycle? TakeLifecycle() => Interlocked.Exchange(ref _lifecycle, null);

    private protected abstract Task<AccessToken> AcquireAsync(AccessToken? rejected, CancellationToken cancellationToken);

    private protected abstract AccessToken Acquire(AccessToken? rejected, CancellationToken cancellationToken);
}
