using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RapidSos.Http.Auth.Tests.Hygiene;

/// <summary>
/// Finds a profile's secrets in any text, independently of the library's scrubber: it searches for each secret's
/// alphanumeric core (which every spelling but Base64 and a JSON escape of every character leaves as it is), for
/// any ten characters of it (a secret cut short by truncation still leaks), for the core and its parts with every
/// character JSON-escaped, and for the Base64 of <c>id:secret</c> that Basic client authentication carries, both raw
/// (<c>Base64(UTF8(id + ":" + secret))</c>) and as RFC 6749 section 2.3.1 asks (each part form-encoded first),
/// in each spelling, and for any ten characters of an alphanumeric run of the Base64 that encodes the secret.
/// Case-insensitive, so lower-case hex escapes are found as well, and again with every run of backslashes made
/// one, so an escape escaped once more is found too.
/// </summary>
internal sealed partial class LeakOracle
{
    private const int PartLength = 10;

    private readonly List<(string Secret, string How, string Needle)> _needles = [];

    public LeakOracle(SweepProfile profile)
    {
        foreach (var secret in profile.Secrets)
        {
            var label = $"{secret.Role} of '{profile.Name}'";
            foreach (var spelling in EchoSpelling.All)
            {
                Add(label, spelling.Wire(secret.Core) == secret.Core ? "its core" : $"its core ({spelling})", spelling.Wire(secret.Core));
            }

            AddParts(label, "part of its core", secret.Core);
        }

        var basicLabel = $"client secret of '{profile.Name}' as Basic credentials";
        foreach (var (form, base64) in new[]
        {
            ("Base64(id:secret)", Base64(profile.ClientId + ":" + profile.ClientSecret.Value)),
            ("Base64(form(id):form(secret))", Base64(FormEncode(profile.ClientId) + ":" + FormEncode(profile.ClientSecret.Value))),
        })
        {
            foreach (var spelling in EchoSpelling.All)
            {
                Add(basicLabel, $"{form} ({spelling})", spelling.Wire(base64));
                Add(basicLabel, $"{form} ({spelling} in JSON)", spelling.InJson(base64));
            }

            Add(basicLabel, $"{form} (\\/ and \\u002B)", base64.Replace("/", "\\/", StringComparison.Ordinal).Replace("+", "\\u002B", StringComparison.Ordinal));

            // Like a core: the alphanumeric runs of the Base64 characters that encode the secret survive every
            // escaping of '+', '/' and '=' and show through however many times the text was escaped, or cut short.
            var secretStart = (Encoding.UTF8.GetByteCount(profile.ClientId + ":") * 8 / 6) + 1;
            foreach (var run in base64[secretStart..].Split('+', '/', '='))
            {
                AddParts(basicLabel, $"part of {form}", run);
            }
        }
    }

    /// <summary>The first hit of each secret found in <paramref name="text"/>.</summary>
    public IEnumerable<LeakHit> Find(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            yield break;
        }

        // Escaped once more (JSON text inside a JSON string), an escape gains a backslash: \\u0057 for \u0057.
        var collapsed = text.Contains('\\', StringComparison.Ordinal) ? Backslashes().Replace(text, "\\") : null;
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (secret, how, needle) in _needles)
        {
            if (reported.Contains(secret))
            {
                continue;
            }

            if (text.IndexOf(needle, StringComparison.OrdinalIgnoreCase) is var at and >= 0)
            {
                reported.Add(secret);
                yield return new LeakHit(secret, how, Excerpt(text, at, needle.Length));
            }
            else if (collapsed?.IndexOf(needle, StringComparison.OrdinalIgnoreCase) is { } inCollapsed and >= 0)
            {
                reported.Add(secret);
                yield return new LeakHit(secret, $"{how}, escaped again", Excerpt(collapsed, inCollapsed, needle.Length));
            }
        }
    }

    /// <summary>
    /// The first hit of each secret in a body as sent or, for JSON, in any of its string values once decoded: a
    /// secret escaped once more inside a JSON string shows its spelling only after that decoding.
    /// </summary>
    public IEnumerable<LeakHit> FindInBody(string body)
    {
        var readings = new List<string> { body };
        try
        {
            using var document = JsonDocument.Parse(body);
            Collect(document.RootElement, readings);
        }
        catch (JsonException)
        {
            // Not JSON, or deliberately malformed: the body as sent is all there is.
        }

        return readings.SelectMany(Find).DistinctBy(hit => hit.Secret);
    }

    /// <summary>The text around a hit, on one line, the hit in [[ ]].</summary>
    internal static string Excerpt(string text, int at, int length)
    {
        const int Around = 60;
        var start = Math.Max(0, at - Around);
        var end = Math.Min(text.Length, at + length + Around);

        // Never half a surrogate pair: the excerpt must stay encodable.
        start -= start > 0 && char.IsLowSurrogate(text[start]) ? 1 : 0;
        end += end < text.Length && char.IsLowSurrogate(text[end]) ? 1 : 0;
        var excerpt = new StringBuilder()
            .Append(start > 0 ? "…" : string.Empty)
            .Append(text, start, at - start).Append("[[").Append(text, at, length).Append("]]")
            .Append(text, at + length, end - at - length)
            .Append(end < text.Length ? "…" : string.Empty);
        return excerpt.Replace("\r", "\\r").Replace("\n", "\\n").ToString();
    }

    private static void Collect(JsonElement element, List<string> strings)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                strings.Add(element.GetString()!);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Collect(property.Value, strings);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, strings);
                }

                break;
        }
    }

    /// <summary>Every ten characters of an alphanumeric run, as they are and with every character JSON-escaped.</summary>
    private void AddParts(string secret, string how, string run)
    {
        for (var start = 0; start + PartLength <= run.Length; start++)
        {
            foreach (var spelling in EchoSpelling.All)
            {
                var part = spelling.Wire(run.Substring(start, PartLength));
                Add(secret, part == run.Substring(start, PartLength) ? how : $"{how} ({spelling})", part);
            }
        }
    }

    private void Add(string secret, string how, string needle)
    {
        if (!_needles.Any(n => n.Secret == secret && string.Equals(n.Needle, needle, StringComparison.OrdinalIgnoreCase)))
        {
            _needles.Add((secret, how, needle));
        }
    }

    [GeneratedRegex(@"\\+")]
    private static partial Regex Backslashes();

    private static string Base64(string value) => Convert.ToBase64String(Encoding.UTF8.GetBytes(value));

    private static string FormEncode(string value) => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal);
}
