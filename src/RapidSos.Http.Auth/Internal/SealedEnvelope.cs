using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The layout of a value in the shared store: <c>version (1) | nonce (12) | ciphertext | tag (16)</c>, where the
/// plaintext is <c>issued at (8) | expires at (8) | payload</c> (Unix milliseconds, big-endian) and the associated data
/// is the version and the key, so a value moved to another key, or written by another version, does not open.
/// </summary>
internal static class SealedEnvelope
{
    public const byte Version = 1;
    public const int NonceSize = 12;
    public const int TagSize = 16;

    /// <summary>The largest value the library writes or reads; anything larger is not its own.</summary>
    public const int MaxSize = 64 * 1024;

    private const int HeaderSize = 1;
    private const int TimesSize = 2 * sizeof(long);

    /// <summary>The largest payload that fits in <see cref="MaxSize"/>.</summary>
    public const int MaxPayloadBytes = MaxSize - HeaderSize - NonceSize - TimesSize - TagSize;

    private static readonly long s_minUnixMilliseconds = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long s_maxUnixMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    public static byte[] AssociatedData(string key)
    {
        var data = new byte[HeaderSize + Encoding.UTF8.GetByteCount(key)];
        data[0] = Version;
        Encoding.UTF8.GetBytes(key, data.AsSpan(HeaderSize));
        return data;
    }

    public static byte[] Seal(AesGcm aes, ReadOnlySpan<byte> associatedData, DateTimeOffset issuedAt, DateTimeOffset expiresAt, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > MaxPayloadBytes)
        {
            throw new ArgumentException($"The payload is {payload.Length} bytes long; at most {MaxPayloadBytes} can be stored.", nameof(payload));
        }

        var plaintext = GC.AllocateUninitializedArray<byte>(TimesSize + payload.Length, pinned: true);
        try
        {
            BinaryPrimitives.WriteInt64BigEndian(plaintext, issuedAt.ToUnixTimeMilliseconds());
            BinaryPrimitives.WriteInt64BigEndian(plaintext.AsSpan(sizeof(long)), expiresAt.ToUnixTimeMilliseconds());
            payload.CopyTo(plaintext.AsSpan(TimesSize));

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
    /// Opens <paramref name="value"/>; <see langword="false"/> for anything that is not a value sealed with this key for
    /// this store key. The payload returned is pinned: the caller zeroes it when done.
    /// </summary>
    public static bool TryOpen(
        AesGcm aes,
        ReadOnlySpan<byte> associatedData,
        ReadOnlySpan<byte> value,
        out DateTimeOffset issuedAt,
        out DateTimeOffset expiresAt,
        out byte[] payload)
    {
        issuedAt = default;
        expiresAt = default;
        payload = [];
        const int SmallestValue = HeaderSize + NonceSize + TimesSize + TagSize;
        if (value.Length < SmallestValue || value.Length > MaxSize || value[0] != Version)
        {
            return false;
        }

        var ciphertext = value[(HeaderSize + NonceSize)..^TagSize];
        var plaintext = GC.AllocateUninitializedArray<byte>(ciphertext.Length, pinned: true);
        var opened = false;
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

            var issued = BinaryPrimitives.ReadInt64BigEndian(plaintext);
            var expires = BinaryPrimitives.ReadInt64BigEndian(plaintext.AsSpan(sizeof(long)));
            if (!IsTime(issued) || !IsTime(expires))
            {
                return false;
            }

            issuedAt = DateTimeOffset.FromUnixTimeMilliseconds(issued);
            expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(expires);
            payload = GC.AllocateUninitializedArray<byte>(plaintext.Length - TimesSize, pinned: true);
            plaintext.AsSpan(TimesSize).CopyTo(payload);
            opened = true;
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
            if (!opened)
            {
                payload = [];
            }
        }
    }

    private static bool IsTime(long unixMilliseconds) => unixMilliseconds >= s_minUnixMilliseconds && unixMilliseconds <= s_maxUnixMilliseconds;
}
