using System.Collections.ObjectModel;
using System.Text;

namespace RapidSos.Http.Auth.Testing;

/// <summary>One request the emulator received, as it arrived, and what the emulator made of it.</summary>
/// <remarks>
/// Fault rules see the request before it is answered: <see cref="Token"/> is then the presented token only, and
/// <see cref="StatusCode"/> is 0. The records in <see cref="RapidSosGatewayEmulator.Requests"/> are complete and no
/// longer change. Instances are safe to read from any thread.
/// </remarks>
public sealed class EmulatorRequest
{
    private static readonly IReadOnlyDictionary<string, string> NoFields =
        new ReadOnlyDictionary<string, string>(new Dictionary<string, string>(StringComparer.Ordinal));

    private string? _bodyText;

    internal EmulatorRequest(
        DateTimeOffset timestamp,
        string method,
        string path,
        string query,
        IReadOnlyDictionary<string, string> headers,
        byte[] body)
    {
        Timestamp = timestamp;
        Method = method;
        Path = path;
        Query = query;
        Headers = headers;
        Body = body;
    }

    /// <summary>Gets when the request arrived, by the emulator's <see cref="RapidSosGatewayEmulatorOptions.TimeProvider"/>.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>Gets the HTTP method, such as <c>POST</c>.</summary>
    public string Method { get; }

    /// <summary>Gets the unescaped path, such as <c>/oauth/token</c>.</summary>
    public string Path { get; }

    /// <summary>Gets the query string as sent, with its leading <c>?</c>, or an empty string.</summary>
    public string Query { get; }

    /// <summary>
    /// Gets the request headers, content headers included, keyed case-insensitively, with the framing headers the wire
    /// carried in either form (<c>Content-Length</c>, or <c>Transfer-Encoding: chunked</c> for a body of unknown length)
    /// and <c>Host</c>. A header sent more than once holds its values joined with <c>", "</c>. The <c>Authorization</c>
    /// header is recorded as sent: this is test data.
    /// </summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    /// <summary>Gets the request body exactly as received; empty when there was none.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>Gets the body decoded as UTF-8.</summary>
    public string BodyText => _bodyText ??= Encoding.UTF8.GetString(Body.Span);

    /// <summary>
    /// Gets the decoded form fields of a token request whose body is <c>application/x-www-form-urlencoded</c>, keyed
    /// case-sensitively (a field sent more than once holds its values joined with <c>","</c>); empty otherwise.
    /// </summary>
    public IReadOnlyDictionary<string, string> Form { get; internal set; } = NoFields;

    /// <summary>Gets a value indicating whether the request was addressed to one of the token endpoints.</summary>
    public bool IsTokenRequest { get; internal set; }

    /// <summary>Gets a value indicating whether the request was addressed to the protected API (a path under <c>/v1/</c>).</summary>
    public bool IsApiRequest { get; internal set; }

    /// <summary>
    /// Gets the client id a token request presented, from the HTTP Basic <c>Authorization</c> header or else the
    /// <c>client_id</c> form field; <see langword="null"/> when there was none.
    /// </summary>
    public string? ClientId { get; internal set; }

    /// <summary>
    /// Gets the access token issued in answer to a token request, or the bearer token an API request presented
    /// (valid or not); <see langword="null"/> when there was none.
    /// </summary>
    public string? Token { get; internal set; }

    /// <summary>
    /// Gets the client id <see cref="Token"/> was issued to: the client of a token request that was issued one, or the
    /// owner of the bearer token an API request presented, whether that token is still valid, expired or revoked;
    /// <see langword="null"/> when there was no token or this emulator never issued it. API fault rules see it too.
    /// </summary>
    /// <remarks>
    /// With several agencies in one emulator, a test can check that each API request carried its own agency's token:
    /// <c>Assert.That(request.TokenClientId, Is.EqualTo(expectedClientId))</c>.
    /// </remarks>
    public string? TokenClientId { get; internal set; }

    /// <summary>
    /// Gets the RapidSOS Portal user <see cref="Token"/> was issued to by the password grant, as
    /// <see cref="TokenClientId"/> gets its client; <see langword="null"/> for a client-credentials token, no token, or
    /// a token this emulator never issued.
    /// </summary>
    public string? TokenUsername { get; internal set; }

    /// <summary>
    /// Gets the status code the emulator answered with; 0 when it sent no answer (the connection was reset, the client
    /// cancelled, or the request has not been answered yet).
    /// </summary>
    public int StatusCode { get; internal set; }

    /// <summary>Returns the method, path and status code, for test output.</summary>
    /// <returns>A short description of the request, without its query, headers or body.</returns>
    public override string ToString() => $"{Method} {Path} -> {StatusCode}";

    internal static IReadOnlyDictionary<string, string> ReadOnly(Dictionary<string, string> fields) =>
        fields.Count == 0 ? NoFields : new ReadOnlyDictionary<string, string>(fields);
}
