using System.Globalization;
using System.Text;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Masks a registration's secrets (client secret, password, the Basic header's Base64 value) in text the gateway
/// sent back, in every spelling the wire or JSON gives them, character by character: raw, percent-encoded (upper
/// or lower case hex, also double-encoded <c>%2522</c>), form-encoded (<c>+</c> for a space), JSON-escaped at any
/// depth (<c>\"</c>, <c>\\</c>, <c>\/</c>, <c>\n</c>, <c>\u00FC</c> or <c>\u00fc</c>, surrogate pairs as two
/// <c>\u</c> escapes), HTML character references, and any mixture of these within one secret.
/// </summary>
/// <remarks>
/// A match is found by walking the secret one code point at a time and keeping every position in the text where
/// some spelling of the prefix so far could end, so an ambiguous run of backslashes costs a few positions rather
/// than backtracking. Only error paths call this; the text is bounded by the 64 KiB response limit.
/// </remarks>
internal sealed class SecretScrubber
{
    /// <summary>What a secret is replaced with.</summary>
    public const string Mask = "***";

    private const int MaxBackslashes = 16;
    private const int MaxEndsPerStep = 32;

    private readonly string[] _secrets;

    private SecretScrubber(string[] secrets) => _secrets = secrets;

    /// <summary>Scrubs nothing.</summary>
    public static SecretScrubber None { get; } = new([]);

    /// <summary>
    /// A scrubber for a registration's secrets. With <paramref name="basicClientId"/>, the Base64 values a Basic
    /// header carries for it and <paramref name="clientSecret"/> are masked too: RFC 6749's form-encoded
    /// spelling and the unencoded one, padded or not, standard or URL-safe alphabet.
    /// </summary>
    public static SecretScrubber For(string clientSecret, string? password, string? basicClientId)
    {
        var secrets = new List<string>();
        AddWithTrimmed(secrets, clientSecret);
        if (password is not null)
        {
            AddWithTrimmed(secrets, password);
        }

        if (basicClientId is not null)
        {
            AddBase64(secrets, basicClientId + ":" + clientSecret);
            AddBase64(secrets, FormEncoding.Encode(basicClientId) + ":" + FormEncoding.Encode(clientSecret));
        }

        // Longest first, so a secret that contains another is masked whole.
        return new([.. secrets.Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)]);
    }

    /// <summary>
    /// The same secrets and <paramref name="token"/> too (the token a failed refresh still holds, which a gateway may
    /// quote back): for one error, not kept.
    /// </summary>
    public SecretScrubber WithToken(string? token) =>
        string.IsNullOrEmpty(token) ? this : new([.. _secrets.Append(token).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)]);

    /// <summary>Returns <paramref name="text"/> with every spelling of every secret replaced by <see cref="Mask"/>.</summary>
    public string Scrub(string text)
    {
        var scrubbed = ScrubSpellings(text);

        // Named HTML references (&uuml;, &nbsp; ...) are too many to spell one by one: a secret found once the text
        // is decoded is masked in the decoded text, which is then what is shown.
        if (_secrets.Length > 0 && scrubbed.Contains('&', StringComparison.Ordinal)
            && System.Net.WebUtility.HtmlDecode(scrubbed) is var decoded && !ReferenceEquals(decoded, scrubbed) && decoded != scrubbed
            && ScrubSpellings(decoded) is var decodedScrubbed && decodedScrubbed != decoded)
        {
            return decodedScrubbed;
        }

        return scrubbed;
    }

    private string ScrubSpellings(string text)
    {
        if (_secrets.Length == 0 || string.IsNullOrEmpty(text))
        {
            return text;
        }

        StringBuilder? scrubbed = null;
        var copied = 0;
        var i = 0;
        while (i < text.Length)
        {
            var end = LongestMatchAt(text, i);
            if (end > i)
            {
                scrubbed ??= new StringBuilder(text.Length);
                scrubbed.Append(text, copied, i - copied).Append(Mask);
                i = copied = end;
            }
            else
            {
                i++;
            }
        }

        return scrubbed is null ? text : scrubbed.Append(text, copied, text.Length - copied).ToString();
    }

    /// <summary>The secret, and without its leading or trailing white space too: a gateway may trim what it echoes.</summary>
    private static void AddWithTrimmed(List<string> secrets, string secret)
    {
        secrets.Add(secret);
        if (secret.Trim() is { Length: > 0 } trimmed && trimmed.Length != secret.Length)
        {
            secrets.Add(trimmed);
        }
    }

    private static void AddBase64(List<string> secrets, string credentials)
    {
        var base64 = Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials));
        var unpadded = base64.TrimEnd('=');

        // The unpadded value is a prefix of the padded one: masking it leaves at most "==", which says nothing.
        secrets.Add(unpadded);
        secrets.Add(unpadded.Replace('+', '-').Replace('/', '_'));
    }

    private int LongestMatchAt(string text, int start)
    {
        var longest = -1;
        foreach (var secret in _secrets)
        {
            var end = MatchAt(text, start, secret);
            if (end > longest)
            {
                longest = end;
            }
        }

        return longest;
    }

    /// <summary>The furthest position where some spelling of <paramref name="secret"/> that starts at <paramref name="start"/> ends, or -1.</summary>
    private static int MatchAt(string text, int start, string secret)
    {
        Span<int> current = stackalloc int[MaxEndsPerStep];
        Span<int> next = stackalloc int[MaxEndsPerStep];
        current[0] = start;
        var currentCount = 1;
        for (var s = 0; s < secret.Length;)
        {
            int codePoint;
            int units;
            if (char.IsHighSurrogate(secret[s]) && s + 1 < secret.Length && char.IsLowSurrogate(secret[s + 1]))
            {
                codePoint = char.ConvertToUtf32(secret[s], secret[s + 1]);
                units = 2;
            }
            else
            {
                codePoint = secret[s];
                units = 1;
            }

            var nextCount = 0;
            for (var k = 0; k < currentCount; k++)
            {
                AddEnds(text, current[k], secret.AsSpan(s, units), codePoint, next, ref nextCount);
            }

            if (nextCount == 0)
            {
                return -1;
            }

            next[..nextCount].CopyTo(current);
            currentCount = nextCount;
            s += units;
        }

        var furthest = -1;
        foreach (var end in current[..currentCount])
        {
            furthest = Math.Max(furthest, end);
        }

        return furthest;
    }

    /// <summary>Adds to <paramref name="ends"/> every position where a spelling of one code point that starts at <paramref name="p"/> ends.</summary>
    private static void AddEnds(string text, int p, ReadOnlySpan<char> literal, int codePoint, Span<int> ends, ref int count)
    {
        if (p >= text.Length)
        {
            return;
        }

        if (text.AsSpan(p).StartsWith(literal, StringComparison.Ordinal))
        {
            Add(ends, ref count, p + literal.Length);
        }

        switch (text[p])
        {
            case '+' when codePoint == ' ':
                Add(ends, ref count, p + 1);
                break;
            case '%':
                for (var depth = 0; depth <= 2; depth++)
                {
                    if (PercentEncodedEnd(text, p, codePoint, depth) is var percentEnd and > 0)
                    {
                        Add(ends, ref count, percentEnd);
                    }
                }

                break;
            case '&':
                if (CharacterReferenceEnd(text, p, codePoint) is var referenceEnd and > 0)
                {
                    Add(ends, ref count, referenceEnd);
                }

                break;
            case '\\':
                AddEscapeEnds(text, p, codePoint, literal, ends, ref count);
                break;
        }
    }

    /// <summary>
    /// JSON escapes at any depth: each level of escaping doubles the backslashes before it, so any run of them
    /// followed by the escape (<c>"</c>, <c>\</c>, <c>/</c>, a control letter or <c>u</c> and four hex digits) spells the character.
    /// </summary>
    private static void AddEscapeEnds(string text, int p, int codePoint, ReadOnlySpan<char> literal, Span<int> ends, ref int count)
    {
        var run = 0;
        while (p + run < text.Length && text[p + run] == '\\' && run < MaxBackslashes)
        {
            run++;
        }

        var letter = codePoint switch
        {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            '\b' => 'b',
            '\f' => 'f',
            '\n' => 'n',
            '\r' => 'r',
            '\t' => 't',
            _ => '\0',
        };
        for (var k = 1; k <= run; k++)
        {
            var q = p + k;
            if (q >= text.Length)
            {
                break;
            }

            if (letter != '\0' && text[q] == letter)
            {
                Add(ends, ref count, q + 1);
            }

            if (text[q] == 'u' && UnicodeEscapeEnd(text, q, literal[0]) is var end and > 0)
            {
                if (literal.Length == 1)
                {
                    Add(ends, ref count, end);
                }
                else
                {
                    // The low surrogate follows, escaped too (with any number of backslashes) or literal.
                    if (end < text.Length && text[end] == literal[1])
                    {
                        Add(ends, ref count, end + 1);
                    }

                    var r = 0;
                    while (end + r < text.Length && text[end + r] == '\\' && r < MaxBackslashes)
                    {
                        r++;
                        if (end + r < text.Length && text[end + r] == 'u' && UnicodeEscapeEnd(text, end + r, literal[1]) is var lowEnd and > 0)
                        {
                            Add(ends, ref count, lowEnd);
                        }
                    }
                }
            }
        }
    }

    /// <summary>After <c>u</c> at <paramref name="u"/>: four hex digits, either case, naming <paramref name="unit"/>.</summary>
    private static int UnicodeEscapeEnd(string text, int u, char unit) =>
        u + 4 < text.Length && int.TryParse(text.AsSpan(u + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value) && value == unit
            ? u + 5
            : -1;

    /// <summary>
    /// The code point's UTF-8 bytes, each as <c>%XX</c> (either case); at <paramref name="depth"/> 1 or 2 the
    /// <c>%</c> itself is encoded again (<c>%2522</c>), as when an encoded form is encoded once more.
    /// </summary>
    private static int PercentEncodedEnd(string text, int p, int codePoint, int depth)
    {
        Span<byte> utf8 = stackalloc byte[4];
        var length = new Rune(codePoint).EncodeToUtf8(utf8);
        var q = p;
        foreach (var b in utf8[..length])
        {
            if (q >= text.Length || text[q] != '%')
            {
                return -1;
            }

            q++;
            for (var d = 0; d < depth; d++, q += 2)
            {
                if (q + 1 >= text.Length || text[q] != '2' || text[q + 1] != '5')
                {
                    return -1;
                }
            }

            if (q + 1 >= text.Length || !byte.TryParse(text.AsSpan(q, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value) || value != b)
            {
                return -1;
            }

            q += 2;
        }

        return q;
    }

    /// <summary><c>&amp;#NN;</c>, <c>&amp;#xHH;</c> or a named reference for the characters HTML escapes.</summary>
    private static int CharacterReferenceEnd(string text, int p, int codePoint)
    {
        var semicolon = text.IndexOf(';', p + 1);
        if (semicolon < 0 || semicolon - p > 12)
        {
            return -1;
        }

        var body = text.AsSpan(p + 1, semicolon - p - 1);
        var value = body switch
        {
            ['#', 'x' or 'X', .. var hex] when int.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v) => v,
            ['#', .. var digits] when int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var v) => v,
            "quot" => '"',
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            _ => -1,
        };
        return value == codePoint ? semicolon + 1 : -1;
    }

    private static void Add(Span<int> ends, ref int count, int end)
    {
        if (count < ends.Length && !ends[..count].Contains(end))
        {
            ends[count++] = end;
        }
    }
}
