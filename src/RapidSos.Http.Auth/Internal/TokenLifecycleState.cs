namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Everything a <see cref="TokenLifecycle"/> knows, as one immutable snapshot: the current token and its phase,
/// the token request under way (or scheduled), the failure streak, the 401 throttle and whether the lifecycle has
/// ended. The lifecycle swaps it whole under its lock; the hot path reads it without the lock.
/// </summary>
internal sealed class TokenLifecycleState
{
    public static readonly TokenLifecycleState Initial = new(TokenPhase.Empty, null, default, default, null, null, null, 0, default, null, ended: false, disposed: false);

    private TokenLifecycleState(
        TokenPhase phase,
        AccessToken? token,
        DateTimeOffset acquiredAt,
        DateTimeOffset refreshAt,
        TokenRequest? request,
        TokenRequest? sideRequest,
        TokenFailure? failure,
        int replacementStrikes,
        DateTimeOffset replacementsAllowedAt,
        AccessToken? struckReplacement,
        bool ended,
        bool disposed)
    {
        Phase = phase;
        Token = token;
        AcquiredAt = acquiredAt;
        RefreshAt = refreshAt;
        Request = request;
        SideRequest = sideRequest;
        Failure = failure;
        ReplacementStrikes = replacementStrikes;
        ReplacementsAllowedAt = replacementsAllowedAt;
        StruckReplacement = struckReplacement;
        Ended = ended;
        Disposed = disposed;
    }

    public TokenPhase Phase { get; }

    /// <summary>The current token; <see langword="null"/> exactly when <see cref="Phase"/> is <see cref="TokenPhase.Empty"/>.</summary>
    public AccessToken? Token { get; }

    /// <summary>When the current token's request was sent.</summary>
    public DateTimeOffset AcquiredAt { get; }

    /// <summary>When the current token falls due for refresh ahead of expiry.</summary>
    public DateTimeOffset RefreshAt { get; }

    /// <summary>The token request under way or scheduled, which every caller shares.</summary>
    public TokenRequest? Request { get; }

    /// <summary>
    /// A synchronous caller's own request, sent on its thread while <see cref="Request"/> needs the thread pool:
    /// a synchronous caller never blocks on work that a starved pool cannot run.
    /// </summary>
    public TokenRequest? SideRequest { get; }

    public TokenFailure? Failure { get; }

    /// <summary>Resends rejected in a row although they carried a token fetched because of a 401.</summary>
    public int ReplacementStrikes { get; }

    /// <summary>No 401-driven replacement is fetched before this while <see cref="ReplacementStrikes"/> is above zero.</summary>
    public DateTimeOffset ReplacementsAllowedAt { get; }

    /// <summary>The replacement whose rejection was counted last: its other resends do not count again.</summary>
    public AccessToken? StruckReplacement { get; }

    /// <summary>Retired (its credentials are no longer used) or disposed: nothing is stored or scheduled any more.</summary>
    public bool Ended { get; }

    /// <summary>The container was disposed: callers get <see cref="ObjectDisposedException"/>.</summary>
    public bool Disposed { get; }

    public bool HasToken => Phase != TokenPhase.Empty;

    public bool IsUsableAt(DateTimeOffset now) => Token is { } token && Phase != TokenPhase.Empty && now < token.ExpiresAt;

    public bool Holds(AccessToken token) => Token is { } current && TokenLifecycle.SameToken(current, token);

    public bool AreReplacementsHeldBack(DateTimeOffset now) => ReplacementStrikes > 0 && now < ReplacementsAllowedAt;

    /// <summary>Whether the hot path should start the one background refresh: due, nothing under way or scheduled, no failure window open.</summary>
    public bool WantsRefreshAheadAt(DateTimeOffset now) =>
        Phase == TokenPhase.RefreshDue && Request is null && !Ended && (Failure is null || !Failure.IsWindowOpen(now));

    public TokenLifecycleState WithToken(AccessToken token, DateTimeOffset acquiredAt, DateTimeOffset refreshAt, TokenPhase phase) =>
        new(phase, token, acquiredAt, refreshAt, Request, SideRequest, failure: null, ReplacementStrikes, ReplacementsAllowedAt, StruckReplacement, Ended, Disposed);

    public TokenLifecycleState WithPhase(TokenPhase phase) =>
        phase == TokenPhase.Empty
            ? new(TokenPhase.Empty, null, default, default, Request, SideRequest, Failure, ReplacementStrikes, ReplacementsAllowedAt, StruckReplacement, Ended, Disposed)
            : new(phase, Token, AcquiredAt, RefreshAt, Request, SideRequest, Failure, ReplacementStrikes, ReplacementsAllowedAt, StruckReplacement, Ended, Disposed);

    public TokenLifecycleState WithoutToken() => WithPhase(TokenPhase.Empty);

    public TokenLifecycleState WithRequest(TokenRequest? request) =>
        new(Phase, Token, AcquiredAt, RefreshAt, request, SideRequest, Failure, ReplacementStrikes, ReplacementsAllowedAt, StruckReplacement, Ended, Disposed);

    public TokenLifecycleState WithSideRequest(TokenRequest? sideRequest) =>
        new(Phase, Token, AcquiredAt, RefreshAt, Request, sideRequest, Failure, ReplacementStrikes, ReplacementsAllowedAt, StruckReplacement, Ended, Disposed);

    /// <summary>Clears whichever slot holds <paramref name="request"/>.</summary>
    public TokenLifecycleState Without(TokenRequest request) =>
        ReferenceEquals(Request, request) ? WithRequest(null)
        : ReferenceEquals(SideRequest, request) ? WithSideRequest(null)
        : this;

    public TokenLifecycleState WithFailure(TokenFailure? failure) =>
        new(Phase, Token, AcquiredAt, RefreshAt, Request, SideRequest, failure, ReplacementStrikes, ReplacementsAllowedAt, StruckReplacement, Ended, Disposed);

    public TokenLifecycleState WithReplacementStrikes(int strikes, DateTimeOffset allowedAt, AccessToken? struckReplacement) =>
        new(Phase, Token, AcquiredAt, RefreshAt, Request, SideRequest, Failure, strikes, allowedAt, struckReplacement, Ended, Disposed);

    /// <summary>The end: no token, nothing under way or scheduled.</summary>
    public TokenLifecycleState AsEnded(bool disposed) =>
        new(TokenPhase.Empty, null, default, default, null, null, null, 0, default, null, ended: true, disposed: disposed || Disposed);
}
