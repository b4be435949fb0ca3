namespace RapidSos.Http.Auth;

/// <summary>
/// Storage shared by every instance of a fleet, through which the instances share one token per credential set and
/// take turns fetching it: one instance requests a token while the others wait for it, refreshes ahead for all of
/// them, and a token the API rejects is replaced once for the fleet. Register one as a singleton to enable it
/// (<c>AddRapidSosRedisTokenCache</c> of the RapidSos.Http.Auth.StackExchangeRedis package registers the Redis one);
/// it applies to every registration and every run-time credential set of the container.
/// </summary>
/// <remarks>
/// <para>
/// The library decides everything that is stored, so no implementation can weaken it: keys are keyed hashes
/// (HMAC-SHA256 under a key derived from the client secret, and the password for a user's token), values are
/// sealed with AES-256-GCM under another key derived the same way. A store sees neither a secret, a password, a user
/// name nor a token; whoever can read it cannot use a token or test a guess of a secret. A value that does not open
/// (tampered, truncated, written under an old secret, not the library's) is a miss.
/// </para>
/// <para>
/// A store is never needed for a token: a member that throws, or does not answer within
/// <see cref="OperationTimeout"/>, makes the instance go on alone exactly as without a store (one token request per
/// credential set for the process), logs one warning per outage and counts the error in the
/// <c>rapidsos.auth.shared_store.errors</c> metric. Implementations must be safe for concurrent use.
/// </para>
/// </remarks>
public interface IRapidSosSharedTokenStore
{
    /// <summary>How long the library waits on one call before it goes on without the store.</summary>
    TimeSpan OperationTimeout { get; }

    /// <summary>The value stored under <paramref name="key"/>, or <see langword="null"/> when there is none.</summary>
    /// <param name="key">The key: printable ASCII, at most 200 characters.</param>
    /// <param name="cancellationToken">Cancelled when the library stops waiting.</param>
    /// <returns>The value, or <see langword="null"/>.</returns>
    ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/> for <paramref name="timeToLive"/>, replacing any value, and wakes the waiters of <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value (at most 64 KiB).</param>
    /// <param name="timeToLive">How long the store keeps it; always positive.</param>
    /// <param name="cancellationToken">Cancelled when the library stops waiting.</param>
    /// <returns>A task that completes when the value is stored.</returns>
    ValueTask SetAsync(string key, byte[] value, TimeSpan timeToLive, CancellationToken cancellationToken);

    /// <summary>Deletes the value under <paramref name="key"/> only if it is, byte for byte, <paramref name="expected"/> (atomically), and then wakes the waiters of <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="expected">The value that must still be there.</param>
    /// <param name="cancellationToken">Cancelled when the library stops waiting.</param>
    /// <returns><see langword="true"/> if it was deleted.</returns>
    ValueTask<bool> DeleteIfEqualAsync(string key, byte[] expected, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the lease under <paramref name="key"/> for <paramref name="owner"/> if nobody holds it, or extends it if
    /// <paramref name="owner"/> already does (atomically); the lease ends by itself after <paramref name="lease"/>.
    /// </summary>
    /// <param name="key">The lease's key.</param>
    /// <param name="owner">A value unique to the caller, kept for the lease's life.</param>
    /// <param name="lease">How long the lease lasts unless extended or released; always positive.</param>
    /// <param name="cancellationToken">Cancelled when the library stops waiting.</param>
    /// <returns><see langword="true"/> if <paramref name="owner"/> holds the lease now.</returns>
    ValueTask<bool> TryAcquireLeaseAsync(string key, string owner, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Ends the lease under <paramref name="key"/> if <paramref name="owner"/> still holds it (atomically), and then wakes the waiters of <paramref name="key"/>.</summary>
    /// <param name="key">The lease's key.</param>
    /// <param name="owner">The owner given to <see cref="TryAcquireLeaseAsync"/>.</param>
    /// <param name="cancellationToken">Cancelled when the library stops waiting.</param>
    /// <returns><see langword="true"/> if the lease was held by <paramref name="owner"/> and is released.</returns>
    ValueTask<bool> ReleaseLeaseAsync(string key, string owner, CancellationToken cancellationToken);

    /// <summary>
    /// Completes when a write through any instance's store (<see cref="SetAsync"/>, <see cref="DeleteIfEqualAsync"/>,
    /// <see cref="ReleaseLeaseAsync"/>) has changed <paramref name="key"/>, or when <paramref name="timeout"/> has
    /// passed, whichever is first; a notification may be lost, so callers look again either way. The wait is
    /// registered before this method returns, so a change made after the call is not missed.
    /// </summary>
    /// <param name="key">The key to watch.</param>
    /// <param name="timeout">The longest wait.</param>
    /// <param name="cancellationToken">Cancelled when the library stops waiting.</param>
    /// <returns>A task that completes on a change or after <paramref name="timeout"/>; it does not fault on timeout.</returns>
    ValueTask WaitForChangeAsync(string key, TimeSpan timeout, CancellationToken cancellationToken);
}
