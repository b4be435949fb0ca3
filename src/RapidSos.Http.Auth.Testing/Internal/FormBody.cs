using System.Net.Http.Headers;
using System.Text;

namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>Decodes <c>application/x-www-form-urlencoded</c> bodies as the WHATWG URL standard does.</summary>
internal static class FormBody
{
    public const string MediaType = "application/x-www-form-urlencoded";

    public static bool IsForm(string? contentType) =>
        contentType is not null
        && MediaTypeHeaderValue.TryParse(contentType, out var parsed)
        && string.Equals(parsed.MediaType, MediaType, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Splits on <c>&amp;</c>, then on the first <c>=</c>; turns <c>+</c> into a space, then percent-decodes as UTF-8.
    /// A field sent twice keeps its values joined with <c>","</c> and is reported, since RFC 6749 forbids repeats.
    /// </summary>
    public static Dictionary<string, string> Parse(ReadOnlySpan<byte> body, out string? repeatedField)
    {
        repeatedField = null;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in Encoding.UTF8.GetString(body).Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(separator < 0 ? pair : pair[..separator]);
            var value = separator < 0 ? string.Empty : Decode(pair[(separator + 1)..]);
            if (fields.TryGetValue(name, out var previous))
            {
                repeatedField ??= name;
                fields[name] = previous + "," + value;
            }
            else
            {
                fields.Add(name, value);
            }
        }

        return fields;
    }

    private static string Decode(string component) => Uri.UnescapeDataString(component.Replace('+', ' '));
}
