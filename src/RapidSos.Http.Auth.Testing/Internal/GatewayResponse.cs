namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>What the emulator's core decided to answer; the Kestrel and in-memory adapters only copy it out.</summary>
/// <remarks>Immutable, so the frequent answers are shared instances and cost no allocation.</remarks>
internal sealed class GatewayResponse
{
    internal const string JsonContentType = "application/json";

    /// <summary>The token endpoint's success content type, as Apigee writes it.</summary>
    internal const string TokenContentType = "application/json;charset=UTF-8";

    private GatewayResponse(int statusCode, string? contentType, byte[] body, KeyValuePair<string, string>[]? headers, bool abortConnection)
    {
        StatusCode = statusCode;
        ContentType = contentType;
        Body = body;
        Headers = headers ?? [];
        AbortConnection = abortConnection;
    }

    public static GatewayResponse Abort { get; } = new(0, null, [], null, abortConnection: true);

    public static GatewayResponse NotFound { get; } = Json(404, ResponseBodies.NotFound);

    public static GatewayResponse InvalidClient { get; } = Json(401, ResponseBodies.InvalidClient);

    public static GatewayResponse InvalidAccessToken { get; } = Json(401, ResponseBodies.InvalidAccessToken);

    public static GatewayResponse AccessTokenExpired { get; } = Json(401, ResponseBodies.AccessTokenExpired);

    public static GatewayResponse InvalidUserCredentials { get; } = Json(400, ResponseBodies.InvalidUserCredentials);

    public static GatewayResponse PingOk { get; } = Json(200, ResponseBodies.StatusOk);

    /// <summary>Gets the status code; 0 for <see cref="Abort"/>.</summary>
    public int StatusCode { get; }

    /// <summary>Gets the <c>Content-Type</c>, or <see langword="null"/> to send none.</summary>
    public string? ContentType { get; }

    public byte[] Body { get; }

    /// <summary>Gets headers other than <c>Content-Type</c> and <c>Content-Length</c>.</summary>
    public KeyValuePair<string, string>[] Headers { get; }

    /// <summary>Gets a value indicating whether the connection is dropped instead of answered.</summary>
    public bool AbortConnection { get; }

    public static GatewayResponse Create(int statusCode, string? contentType, byte[] body, KeyValuePair<string, string>[]? headers = null) =>
        new(statusCode, contentType, body, headers, abortConnection: false);

    public static GatewayResponse Json(int statusCode, byte[] body, KeyValuePair<string, string>[]? headers = null) =>
        new(statusCode, JsonContentType, body, headers, abortConnection: false);
}
