using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// What one credential set keeps in the shared store, and how: its keys, its sealed token and its sealed refusal.
/// Every instance of the fleet that holds the same credentials derives the same keys, and nothing else can: an
/// observer of the store who lacks the client secret can neither open a value nor test a guess of a secret, user name
/// or password against a key.
/// </summary>
/// <remarks>
/// <para>
/// Derivation (HKDF-SHA256, every list in <see cref="CanonicalEncoding"/>):
/// salt = (<c>"RapidSos.Http.Auth.StackExchangeRedis"</c>, a fixed label, token endpoint's absolute URI);
/// input key material = (grant type's wire name, client id, client secret, user name?, password?, scope?);
/// one pseudo-random key, expanded into a 32-byte naming key (info <c>"rapidsos-auth/redis/v1/key-naming"</c>)
/// and a 32-byte AES-256-GCM key (info <c>"rapidsos-auth/redis/v1/value-encryption"</c>).
/// </para>
/// <para>
/// Keys: <c>v1:{{id}}:{purpose}</c> (a store prepends its own prefix), where id is the lowercase hex HMAC-SHA256,
/// under the naming key, of (token endpoint, grant type, client id, user name?, scope?). The braces are a Redis
/// Cluster hash tag: every key of one credential set lands in one slot. Values: <see cref="SealedEnvelope"/>, bound
/// to their key, so a token cannot be passed off as a refusal or moved to another credential set.
/// </para>
/// <para>
/// Key material never outlives its use: the naming key is zeroed once the id is computed, the encryption key is
/// held only inside <see cref="AesGcm"/> (freed by <see cref="Dispose"/>), and every buffer that held a secret,
/// the input key material or a plaintext token is pinned and zeroed. Requires AES-GCM (<see cref="IsSupported"/>);
/// where it is missing the constructor throws <see cref="PlatformNotSupportedException"/> and the caller works
/// without the store. Safe for concurrent use.
/// </para>
/// </remarks>
internal sealed class SharedTokenProtector : IDisposable
{
    public const string TokenPurpose = "token";
    public const string LockPurpose = "lock";
    public const string RefusalPurpose = "refusal";
    internal const string KeyVersion = "v1";
    private const string SaltLabel = "RapidSos.Http.Auth.StackExchangeRedis";
    private const int KeySize = 32;
    private const int RefusalFields = 4;

    private static ReadOnlySpan<byte> NamingInfo => "rapidsos-auth/redis/v1/key-naming"u8;
    private static ReadOnlySpan<byte> EncryptionInfo => "rapidsos-auth/redis/v1/value-encryption"u8;

    private readonly object _gate = new();
    private readonly string _keyStem;
    private readonly byte[] _tokenAssociatedData;
    private readonly byte[] _refusalAssociatedData;
    private readonly AesGcm _aes;
    private bool _disposed;

    public SharedTokenProtector(
        Uri tokenEndpoint,
        RapidSosGrantType grantType,
        string clientId,
        string clientSecret,
        string? username,
        string? password,
        string? scope)
    {
        ArgumentNullException.ThrowIfNull(tokenEndpoint);
        if (!tokenEndpoint.IsAbsoluteUri)
        {
            throw new ArgumentException("The token endpoint must be an absolute URI.", nameof(tokenEndpoint));
        }

        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ArgumentException.ThrowIfNullOrEmpty(clientSecret);
        var grant = grantType switch
        {
            RapidSosGrantType.ClientCredentials => "client_credentials",
            RapidSosGrantType.Password => "password",
            _ => throw new ArgumentOutOfRangeException(nameof(grantType), (int)grantType, "Unknown grant type."),
        };
        RequireWellFormed(clientId, nameof(clientId));
        RequireWellFormed(clientSecret, nameof(clientSecret));
        RequireWellFormed(username, nameof(username));
        RequireWellFormed(password, nameof(password));
        RequireWellFormed(scope, nameof(scope));

        var endpoint = tokenEndpoint.AbsoluteUri;
        Span<byte> pseudoRandomKey = stackalloc byte[KeySize];
        Span<byte> namingKey = stackalloc byte[KeySize];
        Span<byte> encryptionKey = stackalloc byte[KeySize];
        var inputKeyMaterial = CanonicalEncoding.Encode(grant, clientId, clientSecret, username, password, scope);
        var salt = CanonicalEncoding.Encode(SaltLabel, endpoint);
        var identity = CanonicalEncoding.Encode(endpoint, grant, clientId, username, scope);
        try
        {
            HKDF.Extract(HashAlgorithmName.SHA256, inputKeyMaterial, salt, pseudoRandomKey);
            HKDF.Expand(HashAlgorithmName.SHA256, pseudoRandomKey, namingKey, NamingInfo);
            HKDF.Expand(HashAlgorithmName.SHA256, pseudoRandomKey, encryptionKey, EncryptionInfo);

            Span<byte> id = stackalloc byte[HMACSHA256.HashSizeInBytes];
            HMACSHA256.HashData(namingKey, identity, id);
            _keyStem = $"{KeyVersion}:{{{Convert.ToHexString(id).ToLowerInvariant()}}}:";
            _aes = new AesGcm(encryptionKey, SealedEnvelope.TagSize);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(inputKeyMaterial);
            CryptographicOperations.ZeroMemory(pseudoRandomKey);
            CryptographicOperations.ZeroMemory(namingKey);
            CryptographicOperations.ZeroMemory(encryptionKey);
            // The identity holds the user name, which is no secret from the gateway but is one from a store reader.
            CryptographicOperations.ZeroMemory(identity);
        }

        TokenKey = For(TokenPurpose);
        LockKey = For(LockPurpose);
        RefusalKey = For(RefusalPurpose);
        _tokenAssociatedData = SealedEnvelope.AssociatedData(TokenKey);
        _refusalAssociatedData = SealedEnvelope.AssociatedData(RefusalKey);
    }

    public static bool IsSupported => AesGcm.IsSupported;

    /// <summary>The key of the shared token.</summary>
    public string TokenKey { get; }

    /// <summary>The key of the lease of the instance that fetches the token for the fleet.</summary>
    public string LockKey { get; }

    /// <summary>The key of the gateway's last refusal, while the fleet backs off.</summary>
    public string RefusalKey { get; }

    /// <summary>This credential set's key for <paramref name="purpose"/> (lowercase ASCII letters, digits and '-').</summary>
    public string For(string purpose)
    {
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        foreach (var c in purpose)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                throw new ArgumentException("A key purpose is lowercase ASCII letters, digits and '-'.", nameof(purpose));
            }
        }

        return _keyStem + purpose;
    }

    /// <summary>Seals a token, issued at <paramref name="issuedAt"/> and valid until <paramref name="expiresAt"/> (kept to the millisecond).</summary>
    /// <exception cref="ArgumentException">The token is empty, not well-formed UTF-16, or too long to store.</exception>
    /// <exception cref="ObjectDisposedException">Disposed.</exception>
    public byte[] SealToken(string token, DateTimeOffset issuedAt, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        if (!CanonicalEncoding.IsWellFormed(token))
        {
            throw new ArgumentException("The token is not well-formed UTF-16.", nameof(token));
        }

        var length = Encoding.UTF8.GetByteCount(token);
        if (length > SealedEnvelope.MaxPayloadBytes)
        {
            throw new ArgumentException($"The token is {length} bytes long in UTF-8; at most {SealedEnvelope.MaxPayloadBytes} can be stored.", nameof(token));
        }

        var payload = GC.AllocateUninitializedArray<byte>(length, pinned: true);
        try
        {
            Encoding.UTF8.GetBytes(token, payload);
            return Seal(_tokenAssociatedData, issuedAt, expiresAt, payload);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(payload);
        }
    }

    /// <summary>Opens a sealed token; <see langword="false"/> for anything else, never an exception.</summary>
    public bool TryOpenToken(byte[]? value, [NotNullWhen(true)] out string? token, out DateTimeOffset issuedAt, out DateTimeOffset expiresAt)
    {
        token = null;
        if (!TryOpen(_tokenAssociatedData, value, out issuedAt, out expiresAt, out var payload))
        {
            return false;
        }

        try
        {
            if (payload.Length == 0 || !Utf8.IsValid(payload))
            {
                return false;
            }

            // Authentic but not a token this library could have stored (another version, a holder of the secret
            // writing by hand): one no Authorization header can carry is a miss too, never a token handed on.
            var opened = Encoding.UTF8.GetString(payload);
            if (!AccessToken.IsValidTokenValue(opened, out _))
            {
                return false;
            }

            token = opened;
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(payload);
        }
    }

    /// <summary>Seals the gateway's refusal, shared by the fleet until <see cref="SharedRefusal.Until"/>.</summary>
    /// <exception cref="ObjectDisposedException">Disposed.</exception>
    public byte[] SealRefusal(SharedRefusal refusal)
    {
        var payload = CanonicalEncoding.Encode(
            refusal.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            refusal.StatusCode is { } status ? ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
            Truncate(refusal.Message),
            refusal.Detail is null ? null : Truncate(refusal.Detail));
        try
        {
            return Seal(_refusalAssociatedData, refusal.At, refusal.Until, payload);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(payload);
        }
    }

    /// <summary>Opens a sealed refusal; <see langword="false"/> for anything else, never an exception.</summary>
    public bool TryOpenRefusal(byte[]? value, [NotNullWhen(true)] out SharedRefusal? refusal)
    {
        refusal = null;
        if (!TryOpen(_refusalAssociatedData, value, out var at, out var until, out var payload))
        {
            return false;
        }

        try
        {
            if (!CanonicalEncoding.TryDecode(payload, RefusalFields, out var fields)
                || !int.TryParse(fields[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var attempts)
                || attempts < 1
                || fields[2] is not { Length: > 0 } message)
            {
                return false;
            }

            System.Net.HttpStatusCode? status = null;
            if (fields[1] is { } code)
            {
                if (!int.TryParse(code, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number is < 100 or > 599)
                {
                    return false;
                }

                status = (System.Net.HttpStatusCode)number;
            }

            refusal = new SharedRefusal(at, until, attempts, status, message, fields[3]);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(payload);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _disposed = true;
                _aes.Dispose();
            }
        }
    }

    private byte[] Seal(byte[] associatedData, DateTimeOffset issuedAt, DateTimeOffset expiresAt, ReadOnlySpan<byte> payload)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return SealedEnvelope.Seal(_aes, associatedData, issuedAt, expiresAt, payload);
        }
    }

    private bool TryOpen(byte[] associatedData, byte[]? value, out DateTimeOffset issuedAt, out DateTimeOffset expiresAt, out byte[] payload)
    {
        lock (_gate)
        {
            if (_disposed || value is null)
            {
                issuedAt = default;
                expiresAt = default;
                payload = [];
                return false;
            }

            return SealedEnvelope.TryOpen(_aes, associatedData, value, out issuedAt, out expiresAt, out payload);
        }
    }

    // A refusal's text is the library's own message and the gateway's scrubbed detail: a few hundred characters.
    private static string Truncate(string text) => text.Length <= 2048 ? text : text[..2048];

    private static void RequireWellFormed(string? value, string parameterName)
    {
        if (!CanonicalEncoding.IsWellFormed(value))
        {
            throw new ArgumentException("The value is not well-formed UTF-16 (it has a lone surrogate).", parameterName);
        }
    }
}
