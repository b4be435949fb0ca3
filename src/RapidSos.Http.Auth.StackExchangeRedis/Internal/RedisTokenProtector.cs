using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using StackExchange.Redis;

namespace RapidSos.Http.Auth.StackExchangeRedis.Internal;

/// <summary>
/// What one credential set stores in Redis, and how: its Redis keys and its sealed token. Every instance of the
/// fleet that holds the same credentials derives the same keys, and nothing else can: an observer of Redis who
/// lacks the client secret can neither open a value nor test a guess of a secret, user name or password against
/// a key.
/// </summary>
/// <remarks>
/// <para>
/// Derivation (HKDF-SHA256, every list in <see cref="CanonicalEncoding"/>):
/// salt = (<c>"RapidSos.Http.Auth.StackExchangeRedis"</c>, token endpoint's absolute URI);
/// input key material = (grant type's wire name, client id, client secret, user name?, password?, scope?);
/// one pseudo-random key, expanded into a 32-byte naming key (info <c>"rapidsos-auth/redis/v1/key-naming"</c>)
/// and a 32-byte AES-256-GCM key (info <c>"rapidsos-auth/redis/v1/value-encryption"</c>).
/// </para>
/// <para>
/// Keys: <c>{prefix}v1:{{id}}:{purpose}</c>, where id is the lowercase hex HMAC-SHA256, under the naming key, of
/// (token endpoint, grant type, client id, user name?, scope?). The braces are a Redis Cluster hash tag: every key
/// of one credential set lands in one slot, so a script may touch its token and its lock together.
/// Values: <see cref="TokenEnvelope"/>, bound to the token key.
/// </para>
/// <para>
/// Key material never outlives its use: the naming key is zeroed once the id is computed, the encryption key is
/// held only inside <see cref="AesGcm"/> (freed by <see cref="Dispose"/>), and every buffer that held a secret,
/// the input key material or a plaintext token is pinned and zeroed. Requires AES-GCM
/// (<see cref="IsSupported"/>); where it is missing the constructor throws
/// <see cref="PlatformNotSupportedException"/> and the caller must work without Redis. Safe for concurrent use.
/// </para>
/// </remarks>
internal sealed class RedisTokenProtector : IDisposable
{
    public const string TokenPurpose = "token";
    public const string LockPurpose = "lock";
    internal const string KeyVersion = "v1";
    private const string SaltLabel = "RapidSos.Http.Auth.StackExchangeRedis";
    private const int KeySize = 32;

    private static ReadOnlySpan<byte> NamingInfo => "rapidsos-auth/redis/v1/key-naming"u8;
    private static ReadOnlySpan<byte> EncryptionInfo => "rapidsos-auth/redis/v1/value-encryption"u8;

    private readonly object _gate = new();
    private readonly string _keyStem;
    private readonly byte[] _tokenAssociatedData;
    private readonly AesGcm _aes;
    private bool _disposed;

    /// <summary>Derives the keys of one credential set.</summary>
    /// <param name="keyPrefix">The application's key prefix (validated by the options validator).</param>
    /// <param name="tokenEndpoint">The absolute address of the token endpoint.</param>
    /// <param name="grantType">The grant.</param>
    /// <param name="clientId">The client id.</param>
    /// <param name="clientSecret">The client secret; must not be empty, since a key derived from nothing secret protects nothing.</param>
    /// <param name="username">The user, for the password grant.</param>
    /// <param name="password">The user's password, for the password grant.</param>
    /// <param name="scope">The scope, if any.</param>
    /// <exception cref="ArgumentNullException">A required argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="keyPrefix"/>, <paramref name="clientId"/> or <paramref name="clientSecret"/> is empty,
    /// <paramref name="tokenEndpoint"/> is relative, or a string is not well-formed UTF-16 (a lone surrogate).
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="grantType"/> is not a defined value.</exception>
    /// <exception cref="PlatformNotSupportedException">AES-GCM is not available on this platform.</exception>
    public RedisTokenProtector(
        string keyPrefix,
        Uri tokenEndpoint,
        RapidSosGrantType grantType,
        string clientId,
        string clientSecret,
        string? username,
        string? password,
        string? scope)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyPrefix);
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
        RequireWellFormed(keyPrefix, nameof(keyPrefix));
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
            _keyStem = $"{keyPrefix}{KeyVersion}:{{{Convert.ToHexString(id).ToLowerInvariant()}}}:";
            _aes = new AesGcm(encryptionKey, TokenEnvelope.TagSize);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(inputKeyMaterial);
            CryptographicOperations.ZeroMemory(pseudoRandomKey);
            CryptographicOperations.ZeroMemory(namingKey);
            CryptographicOperations.ZeroMemory(encryptionKey);
            // The identity holds the user name, which is no secret from the gateway but is one from a Redis reader.
            CryptographicOperations.ZeroMemory(identity);
        }

        _tokenAssociatedData = TokenEnvelope.AssociatedData(_keyStem + TokenPurpose);
    }

    /// <summary>Whether this platform has AES-GCM; without it no protector can be made.</summary>
    public static bool IsSupported => AesGcm.IsSupported;

    /// <summary>
    /// The Redis key of this credential set for <paramref name="purpose"/> (<see cref="TokenPurpose"/>,
    /// <see cref="LockPurpose"/>, ...): the same on every instance that holds the same credentials and prefix.
    /// </summary>
    /// <param name="purpose">Lowercase ASCII letters, digits and '-'.</param>
    /// <exception cref="ArgumentException"><paramref name="purpose"/> is empty or has another character.</exception>
    public RedisKey For(string purpose)
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

    /// <summary>Seals <paramref name="token"/> and its expiry (kept to the millisecond) for the <see cref="TokenPurpose"/> key.</summary>
    /// <exception cref="ArgumentException"><paramref name="token"/> is empty, not well-formed, or too long to store (<see cref="TokenEnvelope.MaxTokenBytes"/>).</exception>
    /// <exception cref="ObjectDisposedException">The protector was disposed.</exception>
    public byte[] Seal(string token, DateTimeOffset expiresAt)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return TokenEnvelope.Seal(_aes, _tokenAssociatedData, token, expiresAt);
        }
    }

    /// <summary>
    /// Opens a value read from the <see cref="TokenPurpose"/> key. Anything this protector did not seal (no value,
    /// garbage, truncated, too long, another version, tampered, another credential set's, sealed with an old
    /// secret) is a miss: <see langword="false"/>, never an exception. So is any value once disposed.
    /// </summary>
    public bool TryOpen(byte[]? value, [NotNullWhen(true)] out string? token, out DateTimeOffset expiresAt)
    {
        lock (_gate)
        {
            if (_disposed || value is null)
            {
                token = null;
                expiresAt = default;
                return false;
            }

            return TokenEnvelope.TryOpen(_aes, _tokenAssociatedData, value, out token, out expiresAt);
        }
    }

    /// <summary>Frees the encryption key. Later seals throw; later opens miss.</summary>
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

    private static void RequireWellFormed(string? value, string parameterName)
    {
        if (!CanonicalEncoding.IsWellFormed(value))
        {
            throw new ArgumentException("The value is not well-formed UTF-16 (it has a lone surrogate).", parameterName);
        }
    }
}
