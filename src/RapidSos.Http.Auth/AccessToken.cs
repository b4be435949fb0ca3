using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth;

/// <summary>
/// An access token and the time it expires. Immutable and safe to share between threads.
/// </summary>
/// <remarks>
/// <see cref="ToString"/> never shows <see cref="Value"/>: the token is a secret for as long as it lives.
/// </remarks>
public sealed class AccessToken
{
    /// <summary>
    /// Creates an access token.
    /// </summary>
    /// <param name="value">The opaque token, as sent after <c>Bearer </c> in the <c>Authorization</c> header.</param>
    /// <param name="expiresAt">When the token stops being valid.</param>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="value"/> is empty, or holds a character that cannot travel in an HTTP header (a control
    /// character such as CR or LF, a space, or a non-ASCII character). The message never contains the value.
    /// </exception>
    public AccessToken(string value, DateTimeOffset expiresAt)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!IsValidTokenValue(value, out var problem))
        {
            throw new ArgumentException($"The access token {problem}; it cannot be sent in an Authorization header.", nameof(value));
        }

        Value = value;
        ExpiresAt = expiresAt;
        HeaderValue = new BearerHeaderValue(this);
    }

    /// <summary>
    /// Gets the opaque token. Never parse it: client-credentials tokens are random strings, password-grant
    /// tokens may be JWTs, and either may change shape without notice.
    /// </summary>
    public string Value { get; }

    /// <summary>
    /// Gets when the token expires, computed from the local time the token request was sent plus the
    /// lifetime the gateway granted, so a skewed gateway clock cannot shorten or extend it.
    /// </summary>
    public DateTimeOffset ExpiresAt { get; }

    // Built once per token so that attaching it to a request costs no allocation or formatting.
    internal BearerHeaderValue HeaderValue { get; }

    /// <summary>
    /// Returns a description with the expiry time and never the token itself.
    /// </summary>
    /// <returns>A description safe to log.</returns>
    public override string ToString() => $"AccessToken {{ ExpiresAt = {ExpiresAt:O} }}";

    internal static bool IsValidTokenValue(string value, out string problem)
    {
        if (value.Length == 0)
        {
            problem = "is empty";
            return false;
        }

        // RFC 6750 b64token is narrower, but opaque tokens from Apigee and JWTs both fit visible ASCII;
        // anything outside it (CR/LF above all) would let a broken gateway inject headers.
        foreach (var c in value)
        {
            if (c <= ' ' || c >= '\u007f')
            {
                problem = c is '\r' or '\n'
                    ? "contains a line break"
                    : c > '\u007f' ? "contains a non-ASCII character" : "contains a space or control character";
                return false;
            }
        }

        problem = string.Empty;
        return true;
    }
}
