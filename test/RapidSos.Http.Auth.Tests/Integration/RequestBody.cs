using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Threading.Channels;

namespace RapidSos.Http.Auth.Tests.Integration;

/// <summary>
/// One request body of every <see cref="HttpContent"/> kind in System.Net.Http and System.Net.Http.Json, each made
/// fresh by <see cref="Create"/>: the same bytes every time, read-once sources included, so a fresh copy tells what
/// a send must carry.
/// </summary>
/// <param name="Name">The row's name in test output.</param>
/// <param name="Create">Makes a new content with new sources.</param>
/// <param name="SerialisesSynchronously">
/// Whether the content can be written by <see cref="HttpClient.Send(HttpRequestMessage)"/> at all: System.Text.Json
/// serialises an <see cref="IAsyncEnumerable{T}"/> only asynchronously.
/// </param>
internal sealed record RequestBody(string Name, Func<HttpContent> Create, bool SerialisesSynchronously)
{
    // Multipart boundaries are random per content unless given: fixed here, so a fresh copy has the same bytes.
    private const string Boundary = "matrix-boundary";

    private static readonly byte[] s_bytes = Encoding.UTF8.GetBytes("{\"alert\":\"fall detected\",\"caller\":\"Zoë\",\"lat\":40.7}");

    private static readonly Alert[] s_alerts = [new("fall detected", 40.7, -74.0), new("smoke", 51.5, -0.1), new("crash", 48.9, 2.3)];

    /// <summary>Every kind once on its own, then each inside a multipart/mixed and a multipart/form-data, then nested multipart.</summary>
    public static IReadOnlyList<RequestBody> All { get; } = Build();

    public override string ToString() => Name;

    private static RequestBody[] Build()
    {
        RequestBody[] parts =
        [
            new("String", () => new StringContent("{\"alert\":\"fall detected\",\"caller\":\"Zoë\"}", Encoding.UTF8, "application/json"), true),
            new("Bytes", () => Typed(new ByteArrayContent(s_bytes)), true),
            new("Memory", () => Typed(new ReadOnlyMemoryContent(s_bytes)), true),
            new("Form", () => new FormUrlEncodedContent([new("alert", "fall detected"), new("note", "a&b=c é")]), true),
            new("StreamSeekable", () => Typed(new StreamContent(new MemoryStream(s_bytes))), true),
            new("StreamReadOnce", () => Typed(new StreamContent(new ReadOnceStream(s_bytes))), true),
            new("JsonObject", () => JsonContent.Create(s_alerts[0]), true),
            new("JsonList", () => JsonContent.Create(s_alerts.ToList()), true),
            new("JsonAsyncIterator", () => JsonContent.Create(AlertsAsync()), false),
            new("JsonAsyncChannel", () => JsonContent.Create(ChannelOf(s_alerts)), false),
            new("JsonLazyEnumerable", () => JsonContent.Create(Drain(new Queue<Alert>(s_alerts))), true),
            new("JsonLazyValue", () => JsonContent.Create(new Lazy<Alert>(() => s_alerts[0])), true),
            new("Custom", () => Typed(new OneShotContent(s_bytes)), true),
        ];

        var all = new List<RequestBody>(parts);
        all.AddRange(parts.Select(p => new RequestBody("MultipartOf" + p.Name, () => new MultipartContent("mixed", Boundary) { p.Create() }, p.SerialisesSynchronously)));
        all.AddRange(parts.Select(p => new RequestBody("FormDataOf" + p.Name, () => new MultipartFormDataContent(Boundary) { { p.Create(), "part", "part.bin" } }, p.SerialisesSynchronously)));
        all.Add(new("MultipartNested", () => new MultipartContent("mixed", Boundary)
        {
            parts[0].Create(),
            new MultipartFormDataContent("inner-" + Boundary) { { parts[5].Create(), "file", "alert.json" }, { parts[6].Create(), "alert" } },
        }, true));
        return [.. all];
    }

    private static T Typed<T>(T content)
        where T : HttpContent
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        content.Headers.ContentLanguage.Add("en");
        return content;
    }

    /// <summary>A compiler-generated async iterator: it starts over on each enumeration.</summary>
    private static async IAsyncEnumerable<Alert> AlertsAsync()
    {
        foreach (var alert in s_alerts)
        {
            await Task.Yield();
            yield return alert;
        }
    }

    /// <summary>A channel drained as it is read: the second enumeration finds it empty, the "[]".</summary>
    private static IAsyncEnumerable<Alert> ChannelOf(Alert[] alerts)
    {
        var channel = Channel.CreateUnbounded<Alert>();
        foreach (var alert in alerts)
        {
            channel.Writer.TryWrite(alert);
        }

        channel.Writer.Complete();
        return channel.Reader.ReadAllAsync();
    }

    /// <summary>A <c>yield</c> method over a source it consumes, as a reader over a cursor does.</summary>
    private static IEnumerable<Alert> Drain(Queue<Alert> queue)
    {
        while (queue.TryDequeue(out var alert))
        {
            yield return alert;
        }
    }

    internal sealed record Alert(string Kind, double Lat, double Lng);

    /// <summary>A content type the handler cannot know, over a source that can be read once, on both paths.</summary>
    private sealed class OneShotContent(byte[] data) : HttpContent
    {
        private readonly ReadOnceStream _source = new(data);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => _source.CopyToAsync(stream);

        protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken) => _source.CopyTo(stream);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
