namespace RapidSos.Http.Auth;

/// <summary>
/// The tokens of a registration's run-time credentials (see <see cref="RapidSosCredential"/>): for callers that
/// need the token itself (a WebSocket upgrade, a client other than <see cref="HttpClient"/>) and for sign-out.
/// Resolve it from DI as a keyed service under the registration's name, or unkeyed for the default registration.
/// </summary>
/// <remarks>
/// Every guarantee of a static registration holds per credential set: one token request for any number of
/// concurrent callers, refresh ahead while it is used, one replacement per rejected token, and the failure backoff,
/// each scoped to that credential set. At most <see cref="RapidSosAuthOptions.MaxCredentialSets"/> sets are kept;
/// beyond that the least recently used is dropped and fetched again if used again. Safe for concurrent use.
/// </remarks>
public interface IRapidSosTokenCache
{
    /// <summary>A valid token for <paramref name="credential"/>: the cached one, or one requested now (shared with every concurrent caller).</summary>
    /// <param name="credential">The credentials.</param>
    /// <param name="cancellationToken">Stops this caller waiting; a token request shared with others goes on.</param>
    /// <returns>The token.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="credential"/> is <see langword="null"/>.</exception>
    /// <exception cref="RapidSosAuthenticationException">No token could be obtained.</exception>
    ValueTask<AccessToken> GetTokenAsync(RapidSosCredential credential, CancellationToken cancellationToken = default);

    /// <summary>
    /// Drops <paramref name="credential"/>'s token and every copy of its secret or password the library holds (a
    /// user signed out, an agency was removed), on every registration of the container that used it: the next use,
    /// if any, starts from nothing. A request waiting for that credential's token meanwhile fails with
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    /// <param name="credential">The credentials.</param>
    /// <exception cref="ArgumentNullException"><paramref name="credential"/> is <see langword="null"/>.</exception>
    void Remove(RapidSosCredential credential);
}
