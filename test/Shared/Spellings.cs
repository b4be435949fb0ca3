using System.Text;

namespace RapidSos.Http.Auth.Tests.Shared;

/// <summary>
/// Finds a secret in bytes however it might have been written: its UTF-8 bytes, their Base64 (at each of the three
/// alignments a secret can have inside longer Base64 text) or their hex in either case; and not only whole but any
/// <see cref="PartLength"/> characters of it, so a secret cut short or split is found too.
/// </summary>
internal static class Spellings
{
    public const int PartLength = 10;

    /// <summary>The first spelling of <paramref name="secret"/> found in <paramref name="haystack"/>, or <see langword="null"/>.</summary>
    public static string? FindIn(ReadOnlySpan<byte> haystack, string secret)
    {
        foreach (var (name, spelled) in Of(secret))
        {
            var needles = spelled.Length <= PartLength ? [spelled] : Enumerable.Range(0, spelled.Length - PartLength + 1).Select(i => spelled.Substring(i, PartLength));
            foreach (var needle in needles)
            {
                if (haystack.IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0)
                {
                    return $"{name} '{needle}'";
                }
            }
        }

        return null;
    }

    private static IEnumerable<(string Name, string Spelled)> Of(string secret)
    {
        var bytes = Encoding.UTF8.GetBytes(secret);
        yield return ("raw", secret);
        yield return ("hex", Convert.ToHexString(bytes));
        yield return ("lower hex", Convert.ToHexString(bytes).ToLowerInvariant());
        for (var offset = 0; offset < 3; offset++)
        {
            // Base64 of the secret after 0, 1 or 2 other bytes: drop the characters those bytes and the padding touch.
            var base64 = Convert.ToBase64String([.. new byte[offset], .. bytes]).TrimEnd('=');
            var skip = offset == 0 ? 0 : (offset * 8 / 6) + 1;
            var keep = Math.Max(0, base64.Length - skip - 1);
            yield return ($"base64 at offset {offset}", base64.Substring(skip, keep));
        }
    }
}
