namespace RapidSos.Http.Auth;

/// <summary>
/// Supplies access tokens to <see cref="BearerTokenHandler"/>. The built-in implementation caches tokens in
/// <c>IMemoryCache</c>, shares one token request between concurrent callers and refreshes ahead of expiry.
/// </summary>
/// <remarks>Implementations must be safe to call from many threads at once.</remarks>
public interface ITokenProvider
{
    /// <summary>
    /// Gets a valid access token: the cached one when there is one, else a new one from the token endpoint.
    /// </summary>
    /// <param name="cancellationToken">Cancels this caller's wait. It does not cancel a token request that
    /// other callers share.</param>
    /// <returns>A token that has not expired.</returns>
    /// <exception cref="RapidSosAuthenticationException">No valid token exists and the token request failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets a token to replace one the API rejected. A new token is requested only when the cache still holds
    /// <paramref name="rejected"/>; when another caller already replaced it, the replacement is returned, so
    /// many callers rejected with the same token cause one token request between them.
    /// </summary>
    /// <param name="rejected">The token the API answered with 401.</param>
    /// <param name="cancellationToken">Cancels this caller's wait only.</param>
    /// <returns>A token other than <paramref name="rejected"/>, unless the gateway issued the same one again.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="rejected"/> is <see langword="null"/>.</exception>
    /// <exception cref="RapidSosAuthenticationException">The token request failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    ValueTask<AccessToken> RefreshTokenAsync(AccessToken rejected, CancellationToken cancellationToken = default);
}
