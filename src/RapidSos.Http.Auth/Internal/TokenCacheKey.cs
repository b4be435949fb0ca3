using System.Security.Cryptography;
using System.Text;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Everything that changes which token the gateway issues. The secret and password are present only as a
/// keyed hash (HMAC with a per-process random key), so the key can be listed, logged or dumped without
/// exposing them, and a rotated secret yields a new key.
/// </summary>
/// <remarks>
/// It also holds what makes two token requests for the same credentials differ (the client authentication) and
/// whose credentials they are (a registration's own, or run-time ones): a lifecycle is shared only where its
/// settings, telemetry included, hold for every user of it.
/// </remarks>
internal sealed record TokenCacheKey(
    string Endpoint,
    RapidSosGrantType GrantType,
    string ClientId,
    string? Username,
    string? Scope,
    string CredentialHash,
    bool BasicHeader = false,
    bool RunTime = false)
{
    private static readonly byte[] s_hashKey = RandomNumberGenerator.GetBytes(32);

    public static string HashCredentials(string clientSecret, string? password)
    {
        // Length-prefixed, so no secret and password split differently can give the same material (a secret may hold '\0').
        var material = Encoding.UTF8.GetBytes($"{clientSecret.Length}:{clientSecret}{password?.Length ?? -1}:{password}");
        try
        {
            return Convert.ToHexString(HMACSHA256.HashData(s_hashKey, material));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(material);
        }
    }

    public override string ToString() =>
        $"RapidSOS token for client '{ClientId}'{(Username is null ? string.Empty : $", user '{Username}'")} at {Endpoint}";
}
