using System.Buffers.Binary;
using System.Text;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The one unambiguous encoding of a list of optional strings that every derivation here hashes: each field is its
/// UTF-8 length as a 4-byte big-endian integer followed by its UTF-8 bytes, and an absent field
/// (<see langword="null"/>) is the length <c>0xFFFFFFFF</c> with no bytes. So <see langword="null"/> and "" differ,
/// and no two lists share an encoding however their values are split (a secret may hold '\0' or ':').
/// </summary>
internal static class CanonicalEncoding
{
    private const int LengthSize = sizeof(int);
    private const uint AbsentLength = uint.MaxValue;

    /// <summary>
    /// Whether <paramref name="value"/> has no lone surrogate, so its UTF-8 form is exact: UTF-8 replaces a lone
    /// surrogate with U+FFFD, which would give two different strings the same bytes.
    /// </summary>
    public static bool IsWellFormed(string? value)
    {
        if (value is null)
        {
            return true;
        }

        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Encodes <paramref name="fields"/>, which must be well-formed (<see cref="IsWellFormed"/>). The result may hold
    /// secrets: it is pinned, so the garbage collector leaves no copy behind, and the caller zeroes it after use.
    /// </summary>
    public static byte[] Encode(params ReadOnlySpan<string?> fields)
    {
        var size = 0;
        foreach (var field in fields)
        {
            size = checked(size + LengthSize + (field is null ? 0 : Encoding.UTF8.GetByteCount(field)));
        }

        var encoded = GC.AllocateUninitializedArray<byte>(size, pinned: true);
        var rest = encoded.AsSpan();
        foreach (var field in fields)
        {
            if (field is null)
            {
                BinaryPrimitives.WriteUInt32BigEndian(rest, AbsentLength);
                rest = rest[LengthSize..];
                continue;
            }

            var written = Encoding.UTF8.GetBytes(field, rest[LengthSize..]);
            BinaryPrimitives.WriteInt32BigEndian(rest, written);
            rest = rest[(LengthSize + written)..];
        }

        return encoded;
    }

    /// <summary>
    /// Reads back exactly <paramref name="count"/> fields written by <see cref="Encode"/>; <see langword="false"/> for
    /// anything else (too short, trailing bytes, a length past the end, bytes that are not UTF-8).
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> encoded, int count, out string?[] fields)
    {
        fields = new string?[count];
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        for (var i = 0; i < count; i++)
        {
            if (encoded.Length < LengthSize)
            {
                return false;
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(encoded);
            encoded = encoded[LengthSize..];
            if (length == AbsentLength)
            {
                continue;
            }

            if (length > (uint)encoded.Length)
            {
                return false;
            }

            try
            {
                fields[i] = utf8.GetString(encoded[..(int)length]);
            }
            catch (DecoderFallbackException)
            {
                return false;
            }

            encoded = encoded[(int)length..];
        }

        return encoded.IsEmpty;
    }
}
