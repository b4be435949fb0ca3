using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>Mints access tokens and remembers every one it issued: its owner, its expiry, its revocation; thread-safe.</summary>
/// <remarks>
/// <para>
/// Tokens stay known after they expire or are revoked, so an expired one is told apart from an unknown one, as the
/// gateway does, and a request's record can name the owner of any token the emulator issued.
/// </para>
/// <para>
/// Every token gets a sequence number when its request is about to be authenticated. Revoking all the tokens of a
/// client, of a user or of the emulator records the last number handed out, and a token at or below its cut-off is
/// revoked: one dictionary write, whatever the number of tokens, and nothing to walk on the request path. Numbering
/// before the credentials are checked closes the race with <see cref="RevokeClient"/>: a request that passed the
/// check before a client was removed gets a number the removal's cut-off covers.
/// </para>
/// </remarks>
internal sealed class TokenStore
{
    private const string UrlSafeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private readonly ConcurrentDictionary<string, IssuedToken> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _clientCutoffs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _userCutoffs = new(StringComparer.Ordinal);
    private long _lastSequence;
    private long _allCutoff;

    /// <summary>Returns an opaque token of 28 random URL-safe characters, like the sandbox's client-credentials tokens.</summary>
    public static string CreateOpaqueToken() => RandomNumberGenerator.GetString(UrlSafeAlphabet, 28);

    /// <summary>
    /// Returns a JWT-shaped token (three base64url segments) for a password grant: real password-grant tokens can be
    /// JWTs, and a client must pass them on untouched, dots included. The signature is random bytes, not a signature.
    /// </summary>
    public static string CreateJwtLikeToken(string username, string clientId, string scope, DateTimeOffset issuedAt, DateTimeOffset expiresAt)
    {
        var header = ResponseBodies.Json(static w =>
        {
            w.WriteString("alg", "RS256");
            w.WriteString("typ", "JWT");
        });
        var payload = ResponseBodies.Json(w =>
        {
            w.WriteString("sub", username);
            w.WriteString("client_id", clientId);
            w.WriteString("scope", scope);
            w.WriteNumber("iat", issuedAt.ToUnixTimeSeconds());
            w.WriteNumber("exp", expiresAt.ToUnixTimeSeconds());
            w.WriteString("jti", CreateOpaqueToken());
        });
        return string.Concat(
            Base64Url(header), ".", Base64Url(payload), ".", Base64Url(RandomNumberGenerator.GetBytes(32)));
    }

    /// <summary>Hands out the sequence number of a token about to be issued; take it before checking credentials.</summary>
    public long NextSequence() => Interlocked.Increment(ref _lastSequence);

    public void Add(string token, IssuedToken issued) => _tokens[token] = issued;

    /// <summary>Returns the token this emulator issued under that value, revoked or expired included; null if it issued none.</summary>
    public IssuedToken? Find(string token) => _tokens.GetValueOrDefault(token);

    public TokenState Check(IssuedToken? issued, DateTimeOffset now) =>
        issued is null ? TokenState.Unknown
        : IsRevoked(issued) ? TokenState.Revoked
        : now >= issued.ExpiresAt ? TokenState.Expired
        : TokenState.Valid;

    /// <summary>Revokes one token; returns false if it is unknown or already revoked.</summary>
    public bool Revoke(string token) => Find(token) is { } issued && !IsRevoked(issued) && issued.Revoke();

    public void RevokeAll() => RaiseCutoff(ref _allCutoff, Volatile.Read(ref _lastSequence));

    public void RevokeClient(string clientId) => RaiseCutoff(_clientCutoffs, clientId);

    public void RevokeUser(string username) => RaiseCutoff(_userCutoffs, username);

    private bool IsRevoked(IssuedToken issued)
    {
        var sequence = issued.Sequence;
        return issued.IsRevoked
            || sequence <= Interlocked.Read(ref _allCutoff)
            || (_clientCutoffs.TryGetValue(issued.ClientId, out var clientCutoff) && sequence <= clientCutoff)
            || (issued.Username is not null && _userCutoffs.TryGetValue(issued.Username, out var userCutoff) && sequence <= userCutoff);
    }

    private void RaiseCutoff(ConcurrentDictionary<string, long> cutoffs, string key)
    {
        // Read after the caller's change to the credentials (see the remarks), and never lowered by a slower revoker.
        var cutoff = Volatile.Read(ref _lastSequence);
        cutoffs.AddOrUpdate(key, cutoff, (_, existing) => Math.Max(existing, cutoff));
    }

    private static void RaiseCutoff(ref long cutoff, long value)
    {
        var current = Interlocked.Read(ref cutoff);
        while (current < value)
        {
            var seen = Interlocked.CompareExchange(ref cutoff, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>What the gateway thinks of a presented bearer token.</summary>
internal enum TokenState
{
    /// <summary>Never issued by this emulator.</summary>
    Unknown,

    /// <summary>Issued, then revoked: by itself, with its client or user, or with every token.</summary>
    Revoked,

    /// <summary>Issued, and its lifetime has passed.</summary>
    Expired,

    /// <summary>Issued and still within its lifetime.</summary>
    Valid,
}
