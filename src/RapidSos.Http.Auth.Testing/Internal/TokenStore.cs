using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>Mints access tokens and remembers when each valid one expires; thread-safe.</summary>
/// <remarks>Tokens stay known until revoked, so an expired one is told apart from an unknown one, as the gateway does.</remarks>
internal sealed class TokenStore
{
    private const string UrlSafeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private readonly ConcurrentDictionary<string, DateTimeOffset> _expiries = new(StringComparer.Ordinal);

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

    public void Add(string token, DateTimeOffset expiresAt) => _expiries[token] = expiresAt;

    public TokenState Check(string token, DateTimeOffset now) =>
        !_expiries.TryGetValue(token, out var expiresAt) ? TokenState.Unknown
        : now >= expiresAt ? TokenState.Expired
        : TokenState.Valid;

    public bool Revoke(string token) => _expiries.TryRemove(token, out _);

    public void RevokeAll() => _expiries.Clear();

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>What the gateway thinks of a presented bearer token.</summary>
internal enum TokenState
{
    /// <summary>Never issued, or revoked.</summary>
    Unknown,

    /// <summary>Issued, and its lifetime has passed.</summary>
    Expired,

    /// <summary>Issued and still within its lifetime.</summary>
    Valid,
}
