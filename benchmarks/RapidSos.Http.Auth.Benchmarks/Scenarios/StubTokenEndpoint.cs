using System.Globalization;
using System.Net;
using System.Text;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// A back channel that answers every token request at once with a new token of exactly <see cref="TokenLength"/>
/// characters, valid for an hour, and keeps nothing but a count: unlike the emulator, it holds no token, request
/// or client table, so a heap measurement around it sees only what the library keeps.
/// </summary>
internal sealed class StubTokenEndpoint : HttpMessageHandler
{
    private int _requests;

    public StubTokenEndpoint(int tokenLength)
    {
        TokenLength = tokenLength;
    }

    public int TokenLength { get; }

    /// <summary>How many token requests it answered.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>What one token string of <see cref="TokenLength"/> characters occupies on a 64-bit heap: header, length, characters and terminator, rounded up to 8 bytes.</summary>
    public long TokenStringBytes => (22 + (2L * TokenLength) + 7) / 8 * 8;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Task.FromResult(Answer(request));

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) => Answer(request);

    private HttpResponseMessage Answer(HttpRequestMessage request)
    {
        var n = Interlocked.Increment(ref _requests);
        var token = n.ToString(CultureInfo.InvariantCulture).PadLeft(TokenLength, 't');
        var body = $$"""{"access_token":"{{token}}","token_type":"BearerToken","expires_in":"3600","status":"approved"}""";
        return new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) { Headers = { { "Content-Type", "application/json" } } },
            RequestMessage = request,
        };
    }
}
