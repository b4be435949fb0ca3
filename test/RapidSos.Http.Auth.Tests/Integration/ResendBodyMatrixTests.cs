using System.Net;
using System.Net.Http.Json;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Tests.Integration;

/// <summary>
/// Every request body is resent byte for byte (issue 10, item 4): each <see cref="RequestBody"/> is posted through
/// a 401 and the resend, on the asynchronous and the synchronous path, to the gateway emulator on Kestrel
/// (127.0.0.1). The first send carries a revoked token and earns a 401, the resend a new one and earns a 200; both
/// must carry the bytes a fresh copy of the content has, with the same content headers.
/// </summary>
[CancelAfter(10_000)]
public class ResendBodyMatrixTests
{
    private GatewayFixture _f = null!;
    private HttpClient _api = null!;

    private static IEnumerable<TestCaseData> Sendable() =>
        from body in RequestBody.All
        from synchronous in new[] { false, true }
        where body.SerialisesSynchronously || !synchronous
        select new TestCaseData(body.Name, synchronous).SetArgDisplayNames(body.Name, synchronous ? "Send" : "SendAsync");

    private static IEnumerable<TestCaseData> AsyncOnly() =>
        RequestBody.All.Where(b => !b.SerialisesSynchronously).Select(b => new TestCaseData(b.Name).SetArgDisplayNames(b.Name));

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _f = await GatewayFixture.StartAsync();
        _api = _f.Api;
        (await _api.GetAsync("v1/ping")).Dispose();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _api.Dispose();
        await _f.DisposeAsync();
    }

    [SetUp]
    public void RevokeTheCachedToken()
    {
        _f.Gateway.RevokeAllTokens();
        _f.Gateway.ResetRecords();
    }

    [TestCaseSource(nameof(Sendable))]
    public async Task Resend_AfterUnauthorized_CarriesTheSameBytesAndContentHeaders(string body, bool synchronous)
    {
        var row = RequestBody.All.Single(b => b.Name == body);
        using var fresh = row.Create();
        var expected = await fresh.ReadAsByteArrayAsync();

        using var response = await PostAsync(row.Create(), synchronous);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var sends = _f.Gateway.Requests.Where(r => r.IsApiRequest).ToArray();
        Assert.That(sends.Select(s => s.StatusCode), Is.EqualTo(new[] { 401, 200 }), "a 401 for the revoked token, then the resend");
        Assert.That(sends[1].Token, Is.Not.EqualTo(sends[0].Token));
        Assert.That(expected, Is.Not.Empty);
        Assert.That(sends[0].Body.ToArray(), Is.EqualTo(expected), "the first send");
        Assert.That(sends[1].Body.ToArray(), Is.EqualTo(expected), "the resend");
        Assert.That(sends[0].Headers["Content-Type"], Is.EqualTo(fresh.Headers.ContentType?.ToString()));
        Assert.That(ContentHeaders(sends[0]), Has.Some.StartsWith("Content-Length:").Or.Some.EqualTo("Transfer-Encoding: chunked"));
        Assert.That(ContentHeaders(sends[1]), Is.EqualTo(ContentHeaders(sends[0])));
    }

    // System.Text.Json serialises an IAsyncEnumerable only asynchronously, so HttpClient.Send cannot write such a
    // body, with or without this handler: the caller hears so from System.Text.Json itself, and no request arrives
    // (the handler's buffering fails before the send; without it, the send fails while writing the body).
    [TestCaseSource(nameof(AsyncOnly))]
    public void Send_BodyThatSerialisesOnlyAsynchronously_ThrowsNotSupportedAndNoRequestArrives(string body)
    {
        var row = RequestBody.All.Single(b => b.Name == body);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/echo") { Content = row.Create() };

        var thrown = Assert.Throws<NotSupportedException>(() => _api.Send(request, TestContext.CurrentContext.CancellationToken));

        Assert.That(thrown!.Message, Does.Contain("IAsyncEnumerable").And.Contain("async serialization"));
        Assert.That(_f.Gateway.ApiRequestCount, Is.Zero);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Send_BodyFailsToBuffer_CallerGetsTheExceptionAndNothingIsSent(bool synchronous)
    {
        var failure = new InvalidOperationException("the body's source failed");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/echo") { Content = new FailingContent(failure) };
        var cancellationToken = TestContext.CurrentContext.CancellationToken;

        var thrown = synchronous
            ? Assert.Throws<InvalidOperationException>(() => _api.Send(request, cancellationToken))
            : Assert.ThrowsAsync<InvalidOperationException>(() => _api.SendAsync(request, cancellationToken));

        Assert.That(thrown, Is.SameAs(failure));
        Assert.That(_f.Gateway.ApiRequestCount, Is.Zero);
    }

    // The JSON rule, end to end: an async stream declared as object is still recognised by what it is.
    [Test]
    public async Task Resend_JsonOfAsyncStreamDeclaredAsObject_CarriesTheSameBytes()
    {
        var expected = await JsonContent.Create<object>(new[] { 1, 2, 3 }).ReadAsByteArrayAsync();

        using var response = await PostAsync(JsonContent.Create<object>(Drained(1, 2, 3)), synchronous: false);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(_f.Gateway.Requests.Where(r => r.IsApiRequest).Select(r => r.Body.ToArray()), Is.EqualTo(new[] { expected, expected }));
    }

    private static string[] ContentHeaders(EmulatorRequest request) =>
        [.. request.Headers
            .Where(h => h.Key.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            .OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .Select(h => $"{h.Key}: {h.Value}")];

    /// <summary>An async iterator over a channel it drains: enumerated again, it finds the channel empty.</summary>
    private static IAsyncEnumerable<int> Drained(params int[] items)
    {
        var channel = System.Threading.Channels.Channel.CreateUnbounded<int>();
        foreach (var item in items)
        {
            channel.Writer.TryWrite(item);
        }

        channel.Writer.Complete();
        return Read(channel.Reader);

        static async IAsyncEnumerable<int> Read(System.Threading.Channels.ChannelReader<int> reader)
        {
            await foreach (var item in reader.ReadAllAsync())
            {
                yield return item;
            }
        }
    }

    private async Task<HttpResponseMessage> PostAsync(HttpContent content, bool synchronous)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/echo") { Content = content };
        var cancellationToken = TestContext.CurrentContext.CancellationToken;
        return synchronous ? _api.Send(request, cancellationToken) : await _api.SendAsync(request, cancellationToken);
    }

    /// <summary>A body whose every read fails with the given exception, on both paths.</summary>
    private sealed class FailingContent(Exception failure) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => Task.FromException(failure);

        protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken) => throw failure;

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
