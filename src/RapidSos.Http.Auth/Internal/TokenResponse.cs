using System.Text.Json;
using System.Text.Json.Serialization;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The fields of a token response that the library uses. Everything else the gateway sends (token_type,
/// issued_at, api_product_list, developer.email, refresh_token, status, scope, ...) is ignored on purpose:
/// the header scheme is always <c>Bearer</c>, and expiry is computed from the local clock.
/// </summary>
internal sealed class TokenResponse
{
    [JsonPropertyName("access_token")]
    public string? AccessToken { get; set; }

    // The vendor's own example misspells the field.
    [JsonPropertyName("acces_token")]
    public string? MisspelledAccessToken { get; set; }

    // A number or a numeric string ("3599"), both seen from the gateway.
    [JsonPropertyName("expires_in")]
    public double? ExpiresIn { get; set; }
}

[JsonSourceGenerationOptions(
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    ReadCommentHandling = JsonCommentHandling.Disallow,
    MaxDepth = 32)]
[JsonSerializable(typeof(TokenResponse))]
internal sealed partial class TokenResponseJsonContext : JsonSerializerContext;

/// <summary>
/// Turns token endpoint responses into tokens or into <see cref="RapidSosAuthenticationException"/>s. Every
/// failure, however malformed the input, surfaces as that one exception type with a message that names what is
/// wrong and never the response's secrets.
/// </summary>
internal static class TokenResponseParser
{
    /// <summary>Lifetimes above a day are clamped: a gateway that claims more is broken, and refreshing daily is harmless.</summary>
    internal static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(1);

    public static (string Token, TimeSpan Lifetime) Parse(ReadOnlySpan<byte> body, Uri endpoint)
    {
        TokenResponse? response;
        try
        {
            // A UTF-8 byte order mark before the JSON is legal (RFC 8259 lets a parser ignore it); some proxies add one.
            response = JsonSerializer.Deserialize(body.StartsWith("\uFEFF"u8) ? body[3..] : body, TokenResponseJsonContext.Default.TokenResponse);
        }
        catch (JsonException ex)
        {
            // Not attached as the inner exception: its message quotes the path, which can hold the body's text.
            throw Invalid(endpoint, $"it is not a valid token response ({DescribeJsonError(ex)})");
        }

        if (response is null)
        {
            throw Invalid(endpoint, "it is empty or JSON null");
        }

        var token = response.AccessToken ?? response.MisspelledAccessToken;
        if (string.IsNullOrEmpty(token))
        {
            throw Invalid(endpoint, "it has no access_token");
        }

        if (!AccessToken.IsValidTokenValue(token, out var problem))
        {
            throw Invalid(endpoint, $"its access_token {problem} and is refused rather than sent in a header");
        }

        TimeSpan lifetime;
        if (response.ExpiresIn is not { } seconds)
        {
            lifetime = RapidSosAuthDefaults.DefaultTokenLifetime;
        }
        else if (!double.IsFinite(seconds) || Math.Round(seconds, MidpointRounding.AwayFromZero) < 1)
        {
            // Zero, negative, NaN, infinite or under half a second: no usable lifetime, and no framework
            // exception (a cache or timer refusing a zero duration) may be what the caller sees instead.
            throw Invalid(endpoint, $"its expires_in is {seconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}; a token must live for at least one second");
        }
        else
        {
            lifetime = seconds >= MaxLifetime.TotalSeconds ? MaxLifetime : TimeSpan.FromSeconds(Math.Round(seconds, MidpointRounding.AwayFromZero));
        }

        return (token, lifetime);
    }

    private static RapidSosAuthenticationException Invalid(Uri endpoint, string why, Exception? inner = null) =>
        new($"The RapidSOS token endpoint {endpoint} answered 200 but the response cannot be used: {why}.", inner, statusCode: System.Net.HttpStatusCode.OK, detail: null, tokenEndpoint: endpoint);

    // A JsonException's message and path can quote the body (a path names the properties it went through, and a
    // gateway may echo the request as property names): only a path to one of the fields read is shown.
    private static string DescribeJsonError(JsonException ex) =>
        ex.Path is "$.access_token" or "$.acces_token" or "$.expires_in"
            ? $"unexpected value at {ex.Path}"
            : $"malformed JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine}";
}
