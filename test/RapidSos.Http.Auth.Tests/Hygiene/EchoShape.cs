using System.Net;

namespace RapidSos.Http.Auth.Tests.Hygiene;

/// <summary>
/// One body the gateway answers a token request with, the echo placed in a known field (where the library reads
/// the gateway's explanation), in an unknown shape or field, or in a 200 token response the library cannot use.
/// </summary>
/// <param name="Name">The shape's name in leak reports.</param>
/// <param name="EchoInKnownField">
/// Whether the echo sits where the library reads the gateway's explanation: a known JSON field, an HTML title or
/// a plain-text body. Otherwise no text of the echo, not even <see cref="EchoText.Marker"/>, may reach any sink.
/// </param>
/// <param name="IsTokenResponse">Whether the status is 200: an unusable token response.</param>
/// <param name="ContentType">The media type of the body.</param>
/// <param name="Body">Builds the body around one echo.</param>
internal sealed record EchoShape(string Name, bool EchoInKnownField, bool IsTokenResponse, string ContentType, Func<EchoText, string> Body)
{
    private const string Json = "application/json";
    private const string Html = "text/html";
    private const string Text = "text/plain";

    public static IReadOnlyList<EchoShape> All { get; } =
    [
        // The shapes the library parses (ErrorResponse.cs), the echo in the field it reads.
        Known("detail", Json, t => $$$"""{"detail":"{{{t.Json}}}"}"""),
        Known("rfc6749", Json, t => $$$"""{"error":"invalid_client","error_description":"{{{t.Json}}}"}"""),
        Known("rfc6749-error", Json, t => $$$"""{"error":"{{{t.Json}}}"}"""),
        Known("apigee", Json, t => $$$"""{"ErrorCode":"invalid_client","Error":"{{{t.Json}}}"}"""),
        Known("apigee-code", Json, t => $$$"""{"ErrorCode":"{{{t.Json}}}","Error":"Client credentials are invalid"}"""),
        Known("apigee-fault", Json, t => $$$$"""{"fault":{"faultstring":"{{{{t.Json}}}}","detail":{"errorcode":"steps.oauth.v2.FailedToResolveClientId"}}}"""),
        Known("apigee-fault-code", Json, t => $$$$"""{"fault":{"faultstring":"Invalid client identifier","detail":{"errorcode":"{{{{t.Json}}}}"}}}"""),
        Known("message", Json, t => $$$"""{"message":"{{{t.Json}}}"}"""),
        Known("html-title", Html, t => $"<!DOCTYPE html><html><head><title>{WebUtility.HtmlEncode(t.Text)}</title></head><body><h1>Error</h1></body></html>"),
        Known("plain-text", Text, t => t.Text),
        Known("request-dump", Text, t => $"{EchoText.Marker} rejected request:\r\nPOST /oauth/token HTTP/1.1\r\n{t.Header}\r\n\r\n{t.Form}"),

        // Shapes the library does not know: it must say so in a fixed sentence and show none of their text.
        Unknown("detail-object", Json, t => $$$"""{"detail":{"echo":"{{{t.Json}}}"}}"""),
        Unknown("detail-array", Json, t => $$$"""{"detail":["{{{t.Json}}}"]}"""),
        Unknown("request-echo", Json, t => $$$"""{"note":"{{{EchoText.Marker}}}","request":{"grant_type":"client_credentials",{{{t.FieldJson}}}}}"""),
        Unknown("array-root", Json, t => $$$"""[{"detail":"{{{t.Json}}}"}]"""),
        Unknown("nested", Json, t => $$$"""{"errors":[{"reason":{"text":"{{{t.Json}}}"}}]}"""),
        Unknown("json-in-string", Json, t => "{\"upstream\":\"" + EchoSpelling.JsonDefault("{\"detail\":\"" + t.Json + "\"}") + "\"}"),
        Unknown("malformed-json", Json, t => $$$"""{"detail":"{{{t.Json}}}","trace":"""),
        Unknown("known-plus-echo", Json, t => $$$"""{"detail":"Invalid client credentials","echo":"{{{t.Json}}}"}"""),
        Unknown("form-echo", "application/x-www-form-urlencoded", t => t.Form),
        Unknown("html-body", Html, t => $"<html><head><title>400 Bad Request</title></head><body><pre>{t.Text}</pre></body></html>"),

        // 200 with a token response the library refuses, echoing the request besides.
        Token("token-expires-zero", t => $$$"""{"access_token":"{{{t.Token}}}","token_type":"BearerToken","expires_in":0,"note":"{{{EchoText.Marker}}}","request":{{{{t.FieldJson}}}}}"""),
        Token("token-with-space", t => $$$"""{"access_token":"{{{t.Token}}} {{{EchoText.Marker}}}","expires_in":3599,"request":{{{{t.FieldJson}}}}}"""),
        Token("token-missing", t => $$$"""{"token_type":"BearerToken","note":"{{{EchoText.Marker}}}","request":{{{{t.FieldJson}}}}}"""),
        Token("token-expires-text", t => $$$"""{"access_token":"{{{t.Token}}}","expires_in":"{{{t.Json}}}"}"""),
        Token("token-malformed", t => $$$"""{"access_token":"{{{t.Token}}}","note":"{{{EchoText.Marker}}}","request":{{{{t.FieldJson}}}}"""),
    ];

    /// <summary>Whether the body is meant to be valid JSON (the malformed shapes are not, on purpose).</summary>
    public bool IsValidJson => ContentType == Json && !Name.Contains("malformed", StringComparison.Ordinal);

    /// <summary>The status of the n-th case of this shape: an error status in turn, or 200 for a token response.</summary>
    public HttpStatusCode StatusFor(int n) => IsTokenResponse ? HttpStatusCode.OK : ErrorStatuses[n % ErrorStatuses.Length];

    public override string ToString() => Name;

    internal static readonly HttpStatusCode[] ErrorStatuses =
    [
        HttpStatusCode.BadRequest, HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden,
        HttpStatusCode.TooManyRequests, HttpStatusCode.InternalServerError, HttpStatusCode.ServiceUnavailable,
    ];

    private static EchoShape Known(string name, string contentType, Func<EchoText, string> body) => new(name, EchoInKnownField: true, IsTokenResponse: false, contentType, body);

    private static EchoShape Unknown(string name, string contentType, Func<EchoText, string> body) => new(name, EchoInKnownField: false, IsTokenResponse: false, contentType, body);

    private static EchoShape Token(string name, Func<EchoText, string> body) => new(name, EchoInKnownField: false, IsTokenResponse: true, Json, body);
}
