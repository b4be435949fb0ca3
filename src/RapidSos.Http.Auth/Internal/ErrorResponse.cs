using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Extracts the gateway's own explanation from an error response, whichever shape it came in:
/// <c>{"detail"}</c>, <c>{"ErrorCode","Error"}</c>, Apigee's <c>{"fault":{"faultstring"}}</c>, RFC 6749's
/// <c>{"error","error_description"}</c>, an HTML page from a proxy, plain text or nothing at all.
/// </summary>
internal static partial class ErrorResponse
{
    private const int MaxDetailLength = 300;

    public static RapidSosAuthenticationException ToException(HttpStatusCode status, ReadOnlySpan<byte> body, string? mediaType, TimeSpan? retryAfter, TokenRequestSettings settings)
    {
        var detail = Describe(body, mediaType, settings.Secrets);
        var message = new StringBuilder()
            .Append("The RapidSOS token request to ").Append(settings.DisplayEndpoint)
            .Append(" failed with HTTP ").Append((int)status).Append(" (").Append(status).Append("): ")
            .Append(detail ?? (body.IsEmpty ? "the response had no body" : "the response body had no readable message"))
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

    internal static string? Describe(ReadOnlySpan<byte> body, string? mediaType, string[] secrets)
    {
        var trimmed = TrimWhiteSpace(body);
        if (trimmed.IsEmpty)
        {
            return null;
        }

        if (trimmed[0] == (byte)'{')
        {
            var fromJson = FromJson(trimmed, secrets);
            if (fromJson is not null)
            {
                return fromJson;
            }
        }

        var text = Encoding.UTF8.GetString(trimmed);
        if (trimmed[0] == (byte)'<' || (mediaType?.Contains("html", StringComparison.OrdinalIgnoreCase) ?? false))
        {
            var title = TitleRegex().Match(text);
            return title.Success && !string.IsNullOrWhiteSpace(title.Groups[1].Value)
                ? "an HTML error page: " + Clean(WebUtility.HtmlDecode(title.Groups[1].Value), secrets)
                : "an HTML error page";
        }

        return Clean(text, secrets);
    }

    private static string? FromJson(ReadOnlySpan<byte> json, string[] secrets)
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
                return Clean(detail, secrets);
            }

            // RFC 6749 section 5.2.
            if (String(root, "error") is { } error)
            {
                return Clean(String(root, "error_description") is { } description ? $"{description} ({error})" : error, secrets);
            }

            // Apigee's OAuthV2 policy: {"ErrorCode":"invalid_client","Error":"Client credentials are invalid"}.
            if (String(root, "Error") is { } apigeeError)
            {
                return Clean(String(root, "ErrorCode") is { } code ? $"{apigeeError} ({code})" : apigeeError, secrets);
            }

            // Apigee fault: {"fault":{"faultstring":"...","detail":{"errorcode":"..."}}}.
            if (root.TryGetProperty("fault", out var fault) && fault.ValueKind == JsonValueKind.Object && String(fault, "faultstring") is { } faultString)
            {
                var code = fault.TryGetProperty("detail", out var faultDetail) && faultDetail.ValueKind == JsonValueKind.Object
                    ? String(faultDetail, "errorcode")
                    : null;
                return Clean(code is null ? faultString : $"{faultString} ({code})", secrets);
            }

            if (String(root, "message") is { } message)
            {
                return Clean(message, secrets);
            }

            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()
            : null;

    private static ReadOnlySpan<byte> TrimWhiteSpace(ReadOnlySpan<byte> body)
    {
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

    /// <summary>One line, printable, bounded: gateway text goes into exception messages and logs.</summary>
    private static string Clean(string text, string[] secrets)
    {
        text = Scrub(text, secrets);
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
                builder.Append('…');
                break;
            }
        }

        return builder.ToString().TrimEnd();
    }

    /// <summary>A gateway that echoes the request back must not smuggle a secret into our message.</summary>
    internal static string Scrub(string text, string[] secrets)
    {
        foreach (var secret in secrets)
        {
            if (!string.IsNullOrEmpty(secret))
            {
                text = text.Replace(secret, "***", StringComparison.Ordinal);
                var escaped = Uri.EscapeDataString(secret);
                if (escaped != secret)
                {
                    text = text.Replace(escaped, "***", StringComparison.OrdinalIgnoreCase);

                    // As the request form carried it: application/x-www-form-urlencoded writes a space as '+'.
                    var formEncoded = escaped.Replace("%20", "+", StringComparison.Ordinal);
                    if (formEncoded != escaped)
                    {
                        text = text.Replace(formEncoded, "***", StringComparison.OrdinalIgnoreCase);
                    }
                }
            }
        }

        return text;
    }

    [GeneratedRegex("<title[^>]*>(.*?)</title>", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex TitleRegex();
}
