using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RapidSos.Http.Auth.Tests.Hygiene;

/// <summary>
/// One way a gateway can spell a value it echoes: as the request carried it (raw, percent-encoded, form-encoded)
/// or as JSON string content with each escaping style servers use, or escaped twice (JSON text inside a JSON string).
/// </summary>
/// <param name="Name">The spelling's name in leak reports.</param>
/// <param name="Wire">The value as it appears in the body, in text.</param>
/// <param name="IsJsonContent">
/// Whether <paramref name="Wire"/> is JSON string content (goes between the quotes as it is); otherwise the text
/// is JSON-encoded, as a server would, when it goes into a JSON string.
/// </param>
internal sealed partial record EchoSpelling(string Name, Func<string, string> Wire, bool IsJsonContent)
{
    public static IReadOnlyList<EchoSpelling> All { get; } =
    [
        new("raw", value => value, IsJsonContent: false),
        new("percent", Uri.EscapeDataString, IsJsonContent: false),
        new("percent-lower-hex", value => LowerHex().Replace(Uri.EscapeDataString(value), m => m.Value.ToLowerInvariant()), IsJsonContent: false),
        new("form", value => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal), IsJsonContent: false),

        // System.Text.Json's default encoder: \u0022 for a quote, \u002B for '+', non-ASCII as \uXXXX, upper case,
        // characters outside the BMP as a surrogate pair of two \u escapes.
        new("json-default", JsonDefault, IsJsonContent: true),

        // JSON.stringify: only '"', '\' and control characters escaped (\" and \\), everything else as it is.
        new("json-minimal", value => Json(value, _ => false, upperHex: true, escapeSlash: false), IsJsonContent: true),
        new("json-lower-hex", value => Json(value, c => c >= 0x80, upperHex: false, escapeSlash: false), IsJsonContent: true),
        new("json-every-char", value => Json(value, _ => true, upperHex: true, escapeSlash: false), IsJsonContent: true),

        // PHP's json_encode: \/ for '/', non-ASCII as lower-case \uxxxx.
        new("json-slash", value => Json(value, c => c >= 0x80, upperHex: false, escapeSlash: true), IsJsonContent: true),

        // JSON text inside a JSON string: every escape escaped again (\\u0022, \\\\).
        new("json-double", value => JsonDefault(JsonDefault(value)), IsJsonContent: true),
    ];

    /// <summary>The value as the content of a JSON string.</summary>
    public string InJson(string value) => IsJsonContent ? Wire(value) : JsonDefault(Wire(value));

    public override string ToString() => Name;

    internal static string JsonDefault(string value) => JsonEncodedText.Encode(value, JavaScriptEncoder.Default).ToString();

    private static string Json(string value, Func<char, bool> asUnicodeEscape, bool upperHex, bool escapeSlash)
    {
        var builder = new StringBuilder(value.Length * 2);
        foreach (var c in value)
        {
            if (asUnicodeEscape(c) || c < 0x20)
            {
                builder.Append("\\u").Append(((int)c).ToString(upperHex ? "X4" : "x4", CultureInfo.InvariantCulture));
            }
            else if (c is '"' or '\\' || (c == '/' && escapeSlash))
            {
                builder.Append('\\').Append(c);
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    [GeneratedRegex("%[0-9A-F]{2}")]
    private static partial Regex LowerHex();
}
