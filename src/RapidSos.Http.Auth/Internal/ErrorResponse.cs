using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Extracts the gateway's own explanation from an error response, whichever shape it came in:
/// <c>{"detail"}</c>, <c>{"ErrorCode","Error"}</c>, Apigee's <c>{"fault":{"faultstring"}}</c>, RFC 6749's
/// <c>{"error","error_description"}</c>, an HTML page's title, a line of plain prose, or nothing at all.
/// </summary>
/// <remarks>
/// Secret hygiene by construction: the text shown is built only from strings taken from those known places, each
/// scrubbed by the registration's <see cref="SecretScrubber"/>; raw JSON or raw body text never is. A body in any
/// other shape gets a fixed description that names only its kind and the status. Plain text counts as a known
/// place only when it is prose (letters, digits, spaces and sentence punctuation): then the only spelling a
/// secret can have in it is the raw one, which the scrubber masks; text with escapes, '%', '=' or '&amp;' in it is
/// described, not shown.
/// </remarks>
internal static partial class ErrorResponse
{
    private const int MaxDetailLength = 300;

    public static RapidSosAuthenticationException ToException(
        HttpStatusCode status, ReadOnlySpan<byte> body, string? mediaType, TimeSpan? retryAfter, TokenRequestSettings settings, SecretScrubber? scrubber = null)
    {
        var detail = Describe(body, mediaType, scrubber ?? settings.Scrubber);
        var message = new StringBuilder()
            .Append("The RapidSOS token request to ").Append(settings.DisplayEndpoint)
            .Append(" failed with HTTP ").Append((int)status).Append(" (").Append(status).Append("): ")
            .Append(detail ?? DescribeUnshown(status, body, mediaType))
            .Append('.');
        if (status == HttpStatusCode.Unauthorized || status == HttpStatusCode.BadRequest)
        {
            message.Append(settings.GrantType == RapidSosGrantType.Password
                    ? " Check the client id, client secret, user name and password of "
                    : " Check the client id and client secret of ")
                .Append(settings.Name.Length == 0 ? "the default RapidSOS registration" : $"RapidSOS registration '{settings.Name}'")
                .Append('.');
        }

        return new RapidSosAuthenticationException(message.ToString(), innerException: null, status, detail, settings.DisplayEndpoint)
        {
            RetryAfter = retryAfter,
        };
    }

    /// <summary>The gateway's explanation, scrubbed, when the body has one in a known place; otherwise <see langword="null"/>.</summary>
    internal static string? Describe(ReadOnlySpan<byte> body, string? mediaType, SecretScrubber scrubber)
    {
        var trimmed = Trim(body);
        if (trimmed.IsEmpty)
        {
            return null;
        }

        if (trimmed[0] is (byte)'{' or (byte)'[')
        {
            return FromJson(trimmed, scrubber);
        }

        // The text as sent, not trimmed: a secret that ends in a space is masked whole before whitespace is collapsed.
        var text = Encoding.UTF8.GetString(body.StartsWith("\uFEFF"u8) ? body[3..] : body);
        if (IsHtml(trimmed, mediaType))
        {
            var title = TitleRegex().Match(text);
            return title.Success && Clean(WebUtility.HtmlDecode(title.Groups[1].Value), scrubber) is { Length: > 0 } shown
                ? "an HTML error page: " + shown
                : "an HTML error page";
        }

        return IsProse(text) ? Clean(text, scrubber) : null;
    }

    /// <summary>What the message says when <see cref="Describe"/> found nothing it may show: the body's kind, never its text.</summary>
    private static string DescribeUnshown(HttpStatusCode status, ReadOnlySpan<byte> body, string? mediaType)
    {
        var trimmed = Trim(body);
        var code = ((int)status).ToString(CultureInfo.InvariantCulture);
        if (trimmed.IsEmpty)
        {
            return "the response had no body";
        }

        if (trimmed[0] is (byte)'{' or (byte)'[')
        {
            return IsValidJson(trimmed)
                ? $"the gateway answered {code} with a JSON body the library does not recognise"
                : $"the gateway answered {code} with a body that starts like JSON but is not valid JSON";
        }

        return IsHtml(trimmed, mediaType)
            ? "an HTML error page"
            : $"the gateway answered {code} with a text body the library does not show (it is not plain prose)";
    }

    private static bool IsHtml(ReadOnlySpan<byte> trimmed, string? mediaType) =>
        trimmed[0] == (byte)'<' || (mediaType?.Contains("html", StringComparison.OrdinalIgnoreCase) ?? false);

    /// <summary>Letters, digits, spaces and sentence punctuation: no character any encoding or escape would introduce.</summary>
    private static bool IsProse(string text)
    {
        if (text.Length > 4 * MaxDetailLength)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(char.IsLetterOrDigit(c) || char.IsWhiteSpace(c) || c is '.' or ',' or ';' or ':' or '!' or '?' or '\'' or '(' or ')' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValidJson(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            while (reader.Read())
            {
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string? FromJson(ReadOnlySpan<byte> json, SecretScrubber scrubber)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            // RapidSOS's documented shape.
            if (String(root, "detail") is { } detail)
            {
                return Clean(detail, scrubber);
            }

            // RFC 6749 section 5.2.
            if (String(root, "error") is { } error)
            {
                return Join(String(root, "error_description"), error, scrubber);
            }

            // Apigee's OAuthV2 policy: {"ErrorCode":"invalid_client","Error":"Client credentials are invalid"}.
            if (String(root, "Error") is { } apigeeError)
            {
                return Join(apigeeError, String(root, "ErrorCode"), scrubber);
            }

            // Apigee fault: {"fault":{"faultstring":"...","detail":{"errorcode":"..."}}}.
            if (root.TryGetProperty("fault", out var fault) && fault.ValueKind == JsonValueKind.Object && String(fault, "faultstring") is { } faultString)
            {
                var code = fault.TryGetProperty("detail", out var faultDetail) && faultDetail.ValueKind == JsonValueKind.Object
                    ? String(faultDetail, "errorcode")
                    : null;
                return Join(faultString, code, scrubber);
            }

            return String(root, "message") is { } message ? Clean(message, scrubber) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>"description (code)", each part scrubbed on its own and the whole once more, so a secret split across them is caught too.</summary>
    private static string Join(string? description, string? code, SecretScrubber scrubber)
    {
        var joined = description is null ? code! : code is null ? description : $"{scrubber.Scrub(description)} ({scrubber.Scrub(code)})";
        return Clean(joined, scrubber);
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()
            : null;

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> body)
    {
        // A UTF-8 byte order mark is not part of the text (some proxies add one).
        body = body.StartsWith("\uFEFF"u8) ? body[3..] : body;
        var start = 0;
        while (start < body.Length && body[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            start++;
        }

        var end = body.Length;
        while (end > start && body[end - 1] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
        {
            end--;
        }

        return body[start..end];
    }

    /// <summary>
    /// Scrubbed, then one line, printable and bounded: gateway text goes into exception messages and logs. Scrubbed
    /// before it is cut, so a secret is never shortened into a spelling the scrubber does not know, and once more after
    /// whitespace is collapsed, in case collapsing joined one together.
    /// </summary>
    private static string Clean(string text, SecretScrubber scrubber)
    {
        text = scrubber.Scrub(text);
        var builder = new StringBuilder(Math.Min(text.Length, MaxDetailLength + 1));
        var lastWasSpace = false;
        foreach (var c in text)
        {
            var isSpace = char.IsWhiteSpace(c) || char.IsControl(c);
            if (isSpace && (lastWasSpace || builder.Length == 0))
            {
                continue;
            }

            builder.Append(isSpace ? ' ' : c);
            lastWasSpace = isSpace;
            if (builder.Length >= MaxDetailLength)
            {
                // Never cut a surrogate pair in half.
                if (char.IsHighSurrogate(c))
                {
                    builder.Length--;
                }

                builder.Append('…');
                break;
            }
        }

        return scrubber.Scrub(builder.ToString().TrimEnd());
    }

    [GeneratedRegex("<title[^>]*>(.*?)</title>", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex TitleRegex();
}
