namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>A token the emulator issued: whose it is, when it expires, and whether it was revoked on its own.</summary>
/// <remarks>
/// <see cref="Sequence"/> orders tokens by issue, so revoking every token of a client, a user or the whole
/// emulator is one cut-off number (see <see cref="TokenStore"/>) rather than a walk over the tokens.
/// </remarks>
internal sealed class IssuedToken
{
    private int _revoked;

    public IssuedToken(string clientId, string? username, DateTimeOffset expiresAt, long sequence)
    {
        ClientId = clientId;
        Username = username;
        ExpiresAt = expiresAt;
        Sequence = sequence;
    }

    /// <summary>Gets the client id the token was issued to.</summary>
    public string ClientId { get; }

    /// <summary>Gets the RapidSOS Portal user of a password-grant token; <see langword="null"/> for client credentials.</summary>
    public string? Username { get; }

    public DateTimeOffset ExpiresAt { get; }

    public long Sequence { get; }

    /// <summary>Gets a value indicating whether this token was revoked by itself (not by a cut-off).</summary>
    public bool IsRevoked => Volatile.Read(ref _revoked) != 0;

    /// <summary>Revokes this token; returns <see langword="false"/> if it already was.</summary>
    public bool Revoke() => Interlocked.Exchange(ref _revoked, 1) == 0;
}
