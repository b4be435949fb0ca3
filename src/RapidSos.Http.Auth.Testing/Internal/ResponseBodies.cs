using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;

namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>The gateway's response bodies, byte for byte; fixed ones are built once.</summary>
internal static class ResponseBodies
{
    // Relaxed escaping keeps "+", "&" and non-ASCII readable; the bodies are never embedded in HTML.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] NotFound { get; } = Detail("Not found.");

    public static byte[] InvalidClient { get; } = Json(static w =>
    {
        w.WriteString("ErrorCode", "invalid_client");
        w.WriteString("Error", "Client credentials are invalid");
    });

    public static byte[] InvalidAccessToken { get; } = ApigeeFault("Invalid Access Token", "keymanagement.service.invalid_access_token");

    public static byte[] AccessTokenExpired { get; } = ApigeeFault("Access Token expired", "keymanagement.service.access_token_expired");

    public static byte[] InvalidUserCredentials { get; } = Detail("Invalid user credentials.");

    public static byte[] TooManyRequests { get; } = Detail("Too many requests. Please try again later");

    public static byte[] StatusOk { get; } = Json(static w => w.WriteString("status", "ok"));

    /// <summary>Gets a token response cut off in the middle of a value.</summary>
    public static byte[] Truncated { get; } = Utf8("{\"refresh_token_expires_in\":\"0\",\"token_type\":\"BearerToken\",\"access_token\":\"Zx3v");

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static byte[] Detail(string detail) => Json(w => w.WriteString("detail", detail));

    public static byte[] ApigeeFault(string faultstring, string errorcode) => Json(w =>
    {
        w.WriteStartObject("fault");
        w.WriteString("faultstring", faultstring);
        w.WriteStartObject("detail");
        w.WriteString("errorcode", errorcode);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    public static byte[] OAuthError(string error, string? description) => Json(w =>
    {
        w.WriteString("error", error);
        if (description is not null)
        {
            w.WriteString("error_description", description);
        }
    });

    public static byte[] HtmlPage(int status)
    {
        var title = $"{status.ToString(CultureInfo.InvariantCulture)} {ReasonPhrases.GetReasonPhrase(status)}".TrimEnd();
        return Utf8(
            $"<!DOCTYPE html>\n<html>\n<head><title>{title}</title></head>\n<body>\n<center><h1>{title}</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n");
    }

    /// <summary>Writes a token response in the field order and types an Apigee sandbox uses, with the configured quirks.</summary>
    public static byte[] Token(TokenFormat format, string accessToken, DateTimeOffset issuedAt, long expiresInSeconds, string scope)
    {
        var issued = format.IssuedAtInMilliseconds ? issuedAt.ToUnixTimeMilliseconds() : issuedAt.ToUnixTimeSeconds();
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            WriteInteger(w, "refresh_token_expires_in", 0, format.NumbersAsStrings);
            w.WriteString("api_product_list", "[emergency-data]");
            w.WriteString("developer.email", "dev@example.com");
            w.WriteString("token_type", format.TokenTypeValue);
            WriteInteger(w, "issued_at", issued, format.NumbersAsStrings);
            w.WriteString(format.MisspellAccessToken ? "acces_token" : "access_token", accessToken);
            w.WriteString("scope", scope);
            WriteInteger(w, "expires_in", expiresInSeconds, format.NumbersAsStrings);
            w.WriteString("refresh_token", string.Empty);
            w.WriteString("status", "approved");
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes a JSON object: the gateway's bodies are all flat objects or Apigee faults.</summary>
    public static byte[] Json(Action<Utf8JsonWriter> writeProperties)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            writeProperties(w);
            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteInteger(Utf8JsonWriter w, string name, long value, bool asString)
    {
        if (asString)
        {
            w.WriteString(name, value.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            w.WriteNumber(name, value);
        }
    }
}
