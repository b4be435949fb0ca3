using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;

namespace RapidSos.Http.Auth.StackExchangeRedis.Internal;

/// <summary>
/// The format of a token stored in Redis, version 1:
/// <code>
/// [0]        version (1)
/// [1..13)    nonce: 12 random bytes, new for every value
/// [13..n-16) AES-GCM ciphertext of: expiry (Unix milliseconds, 8 bytes big-endian) + the token (UTF-8)
/// [n-16..n)  AES-GCM tag (16 bytes)
/// </code>
/// The associated data is the version byte followed by the UTF-8 Redis key the value is stored under, so a value
/// copied to another key, or relabelled as another version, fails to verify. Values longer than
/// <see cref="MaxSize"/> are never written and never read.
/// </summary>
/// <remarks>
/// Random 96-bit nonces are safe here: each key (one per credential set) seals about one value per token lifetime
/// for the whole fleet, far below the 2^32 values per key after which random nonces risk repeating.
/// </remarks>
internal static class TokenEnvelope
{
    public const byte Version = 1;
    public const int NonceSize = 12;
    public const int TagSize = 16;
    public const int MaxSize = 64 * 1024;
    private const int HeaderSize = 1;
    private const int ExpirySize = sizeof(long);

    /// <summary>The most UTF-8 bytes of token a value of at most <see cref="MaxSize"/> bytes can hold.</summary>
    public const int MaxTokenBytes = MaxSize - HeaderSize - NonceSize - ExpirySize - TagSize;

    private static readonly long s_minUnixMilliseconds = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long s_maxUnixMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    /// <summary>The associated data of a value stored under <paramref name="redisKey"/>: the version byte, then the key's UTF-8 bytes.</summary>
    public static byte[] AssociatedData(string redisKey)
    {
        var data = new byte[HeaderSize + Encoding.UTF8.GetByteCount(redisKey)];
        data[0] = Version;
        Encoding.UTF8.GetBytes(redisKey, data.AsSpan(HeaderSize));
        return data;
    }

    /// <summary>Encrypts and authenticates <paramref name="token"/> and its expiry (kept to the millisecond).</summary>
    /// <exception cref="ArgumentException"><paramref name="token"/> is empty, not well-formed UTF-16, or longer than <see cref="MaxTokenBytes"/> in UTF-8.</exception>
    public static byte[] Seal(AesGcm aes, ReadOnlySpan<byte> associatedData, string token, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        if (!CanonicalEncoding.IsWellFormed(token))
        {
            throw new ArgumentException("The token is not well-formed UTF-16.", nameof(token));
        }

        var tokenBytes = Encoding.UTF8.GetByteCount(token);
        if (tokenBytes > MaxTokenBytes)
        {
            throw new ArgumentException($"The token is {tokenBytes} bytes long in UTF-8; at most {MaxTokenBytes} can be stored.", nameof(token));
        }

        var plaintext = GC.AllocateUninitializedArray<byte>(ExpirySize + tokenBytes, pinned: true);
        try
        {
            BinaryPrimitives.WriteInt64BigEndian(plaintext, expiresAt.ToUnixTimeMilliseconds());
            Encoding.UTF8.GetBytes(token, plaintext.AsSpan(ExpirySize));

            var value = new byte[HeaderSize + NonceSize + plaintext.Length + TagSize];
            value[0] = Version;
            var nonce = value.AsSpan(HeaderSize, NonceSize);
            RandomNumberGenerator.Fill(nonce);
            aes.Encrypt(nonce, plaintext, value.AsSpan(HeaderSize + NonceSize, plaintext.Length), value.AsSpan(value.Length - TagSize), associatedData);
            return value;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>
    /// Opens a value written by <see cref="Seal"/> with the same key and associated data. Anything else (empty,
    /// truncated, too long, another version, tampered, sealed under another key or for another Redis key) gives
    /// <see langword="false"/>, never an exception.
    /// </summary>
    public static bool TryOpen(
        AesGcm aes,
        ReadOnlySpan<byte> associatedData,
        ReadOnlySpan<byte> value,
        [NotNullWhen(true)] out string? token,
        out DateTimeOffset expiresAt)
    {
        token = null;
        expiresAt = default;
        const int SmallestValue = HeaderSize + NonceSize + ExpirySize + 1 + TagSize;
        if (value.Length < SmallestValue || value.Length > MaxSize || value[0] != Version)
        {
            return false;
        }

        var ciphertext = value[(HeaderSize + NonceSize)..^TagSize];
        var plaintext = GC.AllocateUninitializedArray<byte>(ciphertext.Length, pinned: true);
        try
        {
            try
            {
                aes.Decrypt(value.Slice(HeaderSize, NonceSize), ciphertext, value[^TagSize..], plaintext, associatedData);
            }
            catch (CryptographicException)
            {
                // Tampered, or sealed under another secret or for another key (AuthenticationTagMismatchException).
                return false;
            }

            var unixMilliseconds = BinaryPrimitives.ReadInt64BigEndian(plaintext);
            var tokenBytes = plaintext.AsSpan(ExpirySize);
            if (unixMilliseconds < s_minUnixMilliseconds || unixMilliseconds > s_maxUnixMilliseconds || !Utf8.IsValid(tokenBytes))
            {
                return false;
            }

            expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);
            token = Encoding.UTF8.GetString(tokenBytes);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}
