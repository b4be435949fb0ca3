using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace RapidSos.Http.Auth.Testing.Tests;

/// <summary>
/// What happens to a request on its way to the emulator, which the in-memory handler must reproduce from
/// SocketsHttpHandler and Kestrel: the body read once and byte for byte, its framing headers, and the failures of
/// a content that cannot be sent, a reset connection and a stopped emulator. Every assertion holds in both forms.
/// </summary>
[TestFixture(EmulatorHosting.Kestrel)]
[TestFixture(EmulatorHosting.InMemory)]
public sealed class TransportTests : EmulatorTestBase
{
    // Every byte value, in an order that is not the identity, over more than one 16 KiB read or chunk.
    private static readonly byte[] Payload = Enumerable.Range(0, 70_000).Select(i => (byte)((i * 31) + 7)).ToArray();

    public TransportTests(EmulatorHosting hosting)
        : base(hosting)
    {
    }

    public static IEnumerable<TestCaseData> Bodies()
    {
        yield return new TestCaseData(new Func<HttpContent>(() => new ByteArrayContent(Payload)), false)
            .SetArgDisplayNames("ByteArrayContent");
        yield return new TestCaseData(new Func<HttpContent>(() => new StreamContent(new ReadOnceStream(Payload))), true)
            .SetArgDisplayNames("NonSeekableStreamContent");
    }

    [TestCaseSource(nameof(Bodies))]
    public async Task Requests_BodyOfKnownBytes_ArrivesByteIdenticalWithTheWiresFraming(Func<HttpContent> createContent, bool chunked)
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);
        using var content = createContent();
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/echo") { Content = content };
        request.Headers.Authorization = Bearer(token);

        using var response = await client.SendAsync(request);
        var echoed = await response.Content.ReadAsByteArrayAsync();
        var recorded = emulator.Requests.Last();

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(recorded.Body.ToArray(), Is.EqualTo(Payload));
            Assert.That(echoed, Is.EqualTo(Payload));
            Assert.That(recorded.Headers.GetValueOrDefault("Transfer-Encoding"), Is.EqualTo(chunked ? "chunked" : null));
            Assert.That(recorded.Headers.GetValueOrDefault("Content-Length"), Is.EqualTo(chunked ? null : "70000"));
        });
    }

    [TestCase("POST", "0")]
    [TestCase("PUT", "0")]
    [TestCase("GET", null)]
    [TestCase("DELETE", null)]
    public async Task Requests_NoContent_ContentLengthZeroOnlyForMethodsThatCarryABody(string method, string? contentLength)
    {
        var (emulator, client) = await StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), "v1/echo");

        using var response = await client.SendAsync(request);
        var recorded = emulator.Requests.Single();

        Assert.Multiple(() =>
        {
            Assert.That(recorded.Headers.GetValueOrDefault("Content-Length"), Is.EqualTo(contentLength));
            Assert.That(recorded.Headers.ContainsKey("Transfer-Encoding"), Is.False);
            Assert.That(recorded.Body.IsEmpty, Is.True);
        });
    }

    [Test]
    public async Task Send_NonSeekableStreamContentSentTwice_SecondFailsBeforeReachingTheEmulator([Values] bool synchronous)
    {
        var (emulator, client) = await StartAsync();
        var form = Encoding.ASCII.GetBytes($"grant_type=client_credentials&client_id={ClientId}&client_secret={ClientSecret}");
        using var content = new StreamContent(new ReadOnceStream(form));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");

        // Two messages over one content, as a handler that resends does; disposing a message would dispose the content.
        var first = new HttpRequestMessage(HttpMethod.Post, "oauth/token") { Content = content };
        var second = new HttpRequestMessage(HttpMethod.Post, "oauth/token") { Content = content };
        using var answered = await SendAsync(client, first, synchronous);
        var exception = Assert.CatchAsync(async () => (await SendAsync(client, second, synchronous)).Dispose());

        Assert.Multiple(() =>
        {
            Assert.That(answered.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(exception, Is.TypeOf<HttpRequestException>());
            Assert.That(exception!.InnerException, Is.TypeOf<InvalidOperationException>());
            Assert.That(((HttpRequestException)exception).HttpRequestError, Is.EqualTo(HttpRequestError.Unknown));
            Assert.That(emulator.TokenRequestCount, Is.EqualTo(1), "the second request never arrived");
            Assert.That(emulator.Requests.Single().Body.ToArray(), Is.EqualTo(form));
        });
    }

    [TestCase(5, 4, "content would exceed Content-Length")]
    [TestCase(3, 4, "Sent 3 request content bytes, but Content-Length promised 4.")]
    public async Task Send_ContentLengthThatLies_FailsBeforeReachingTheEmulator(int written, long announced, string message)
    {
        var (emulator, client) = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/echo") { Content = new LyingLengthContent(written, announced) };

        var exception = Assert.CatchAsync(() => client.SendAsync(request));

        Assert.Multiple(() =>
        {
            Assert.That(exception, Is.TypeOf<HttpRequestException>().With.Message.Contains(message));
            Assert.That(emulator.ApiRequestCount, Is.Zero);
        });
    }

    [Test]
    public async Task Send_SynchronousWithContentThatOnlySerialisesAsynchronously_ThrowsNotSupported()
    {
        var (emulator, client) = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/echo") { Content = new LyingLengthContent(4, 4) };

        Assert.That(() => client.Send(request), Throws.TypeOf<NotSupportedException>());
        Assert.That(emulator.ApiRequestCount, Is.Zero);
    }

    [Test]
    public async Task EnqueueFault_ConnectionReset_FailsAsAResetSocket([Values] bool synchronous)
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.ConnectionReset());
        using var request = new HttpRequestMessage(HttpMethod.Post, "oauth/token") { Content = ClientCredentialsForm() };

        var exception = Assert.CatchAsync(async () => (await SendAsync(client, request, synchronous)).Dispose());

        AssertConnectionReset(exception);
    }

    [Test]
    public async Task DisposeAsync_RequestStalledForever_FailsAsAResetSocket()
    {
        var (emulator, client) = await StartAsync();
        emulator.EnqueueFault(EmulatorFault.Stall(Timeout.InfiniteTimeSpan));
        var request = client.PostAsync("oauth/token", ClientCredentialsForm());
        await Poll.UntilAsync(() => emulator.TokenRequestCount == 1, "the stalled token request to reach the emulator");

        await emulator.DisposeAsync();

        AssertConnectionReset(Assert.CatchAsync(() => request));
    }

    [Test]
    public async Task DisposeAsync_ClientUsedAfterwards_FailsAsARefusedConnection([Values] bool synchronous)
    {
        var (emulator, client) = await StartAsync();
        await emulator.DisposeAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/ping");

        var exception = Assert.CatchAsync(async () => (await SendAsync(client, request, synchronous)).Dispose());

        Assert.Multiple(() =>
        {
            Assert.That(exception, Is.TypeOf<HttpRequestException>().With.Message.StartsWith("Connection refused ("));
            Assert.That(((HttpRequestException)exception!).HttpRequestError, Is.EqualTo(HttpRequestError.ConnectionError));
            Assert.That(exception!.InnerException, Is.TypeOf<SocketException>()
                .With.Property(nameof(SocketException.SocketErrorCode)).EqualTo(SocketError.ConnectionRefused));
        });
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request, bool synchronous) =>
        synchronous ? client.Send(request) : await client.SendAsync(request);

    private static void AssertConnectionReset(Exception? exception)
    {
        Assert.That(exception, Is.TypeOf<HttpRequestException>());
        Assert.Multiple(() =>
        {
            Assert.That(((HttpRequestException)exception!).HttpRequestError, Is.EqualTo(HttpRequestError.Unknown));
            Assert.That(exception!.InnerException, Is.TypeOf<IOException>());
            Assert.That(exception.InnerException?.InnerException, Is.TypeOf<SocketException>()
                .With.Property(nameof(SocketException.SocketErrorCode)).EqualTo(SocketError.ConnectionReset));
        });
    }

    /// <summary>A content that announces one length and writes another, and has no synchronous serialisation.</summary>
    private sealed class LyingLengthContent(int written, long announced) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            stream.WriteAsync(new byte[written]).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = announced;
            return true;
        }
    }
}
