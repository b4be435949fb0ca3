using System.Collections.Immutable;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

/// <summary>
/// The replayable-content rule of <see cref="BearerTokenHandler"/>, one row per content kind and per kind of JSON
/// value: what may be sent twice as it is, and what is buffered before the first send. The end-to-end proof that
/// the answers are right is <c>Integration/ResendBodyMatrixTests</c>.
/// </summary>
public class ReplayableContentTests
{
    private static readonly byte[] s_bytes = Encoding.UTF8.GetBytes("{\"alert\":\"fall detected\"}");

    private static IEnumerable<TestCaseData> Contents()
    {
        yield return Row("Null", () => null, false);
        yield return Row("String", () => new StringContent("{}", Encoding.UTF8, "application/json"), false);
        yield return Row("Bytes", () => new ByteArrayContent(s_bytes), false);
        yield return Row("Memory", () => new ReadOnlyMemoryContent(s_bytes), false);
        yield return Row("Form", () => new FormUrlEncodedContent([new("a", "b")]), false);
        yield return Row("JsonOfObject", () => JsonContent.Create(new { alert = "fall detected" }), false);
        yield return Row("JsonOfAsyncEnumerable", () => JsonContent.Create(Numbers()), true);
        yield return Row("StreamSeekable", () => new StreamContent(new MemoryStream(s_bytes)), true);
        yield return Row("StreamReadOnce", () => new StreamContent(new ReadOnceStream(s_bytes)), true);
        yield return Row("Custom", () => new Custom(), true);
        yield return Row("DerivedFromStringContent", () => new DerivedStringContent("{}"), true);
        yield return Row("DerivedFromMultipartContent", () => new DerivedMultipartContent { new StringContent("a") }, true);
        yield return Row("MultipartEmpty", () => new MultipartContent(), false);
        yield return Row("MultipartOfPlainParts", () => new MultipartContent { new StringContent("a"), new ByteArrayContent(s_bytes), JsonContent.Create(new[] { 1 }) }, false);
        yield return Row("MultipartWithStreamPart", () => new MultipartContent { new StringContent("a"), new StreamContent(new MemoryStream(s_bytes)) }, true);
        yield return Row("FormDataOfPlainParts", () => new MultipartFormDataContent { { new StringContent("a"), "a" }, { new ReadOnlyMemoryContent(s_bytes), "b", "b.json" } }, false);
        yield return Row("FormDataWithLazyJsonPart", () => new MultipartFormDataContent { { new StringContent("a"), "a" }, { JsonContent.Create(Numbers()), "n" } }, true);
        yield return Row("MultipartNestedWithDeepStreamPart", () => new MultipartContent { new MultipartFormDataContent { { new StreamContent(new ReadOnceStream(s_bytes)), "f", "f.bin" } } }, true);
        yield return Row("MultipartNestedOfPlainParts", () => new MultipartContent { new MultipartFormDataContent { { new StringContent("a"), "a" } } }, false);
    }

    private static IEnumerable<TestCaseData> JsonValues()
    {
        // Plain: serialised from memory, the same way twice.
        yield return Json("Null", () => (null, typeof(object)), false);
        yield return Json("Int", () => (42, typeof(int)), false);
        yield return Json("String", () => ("fall detected", typeof(string)), false);
        yield return Json("AnonymousObject", () => (new { alert = "fall detected" }, typeof(object)), false);
        yield return Json("Record", () => (new Alert("fall detected"), typeof(Alert)), false);
        yield return Json("Array", () => (new[] { 1, 2, 3 }, typeof(int[])), false);
        yield return Json("List", () => (new List<int> { 1, 2, 3 }, typeof(List<int>)), false);
        yield return Json("ListDeclaredAsEnumerable", () => (new List<int> { 1, 2, 3 }, typeof(IEnumerable<int>)), false);
        yield return Json("Dictionary", () => (new Dictionary<string, int> { ["a"] = 1 }, typeof(Dictionary<string, int>)), false);
        yield return Json("HashSet", () => (new HashSet<int> { 1, 2 }, typeof(HashSet<int>)), false);
        yield return Json("ImmutableArray", () => (ImmutableArray.Create(1, 2), typeof(ImmutableArray<int>)), false);
        yield return Json("JsonDocument", () => (JsonDocument.Parse("{\"a\":1}"), typeof(JsonDocument)), false);
        yield return Json("JsonElement", () => (JsonDocument.Parse("[1]").RootElement, typeof(JsonElement)), false);
        yield return Json("JsonObject", () => (new JsonObject { ["a"] = 1 }, typeof(JsonObject)), false);
        yield return Json("JsonArray", () => (new JsonArray(1, 2), typeof(JsonArray)), false);

        // Lazy: may serialise differently, or not at all, the second time.
        yield return Json("AsyncIterator", () => (Numbers(), typeof(IAsyncEnumerable<int>)), true);
        yield return Json("AsyncIteratorDeclaredAsObject", () => (Numbers(), typeof(object)), true);
        yield return Json("ChannelReadAll", () => (Channel.CreateUnbounded<int>().Reader.ReadAllAsync(), typeof(IAsyncEnumerable<int>)), true);
#if NET10_0_OR_GREATER
        // System.Linq.AsyncEnumerable is in the base library from .NET 10 on.
        yield return Json("AsyncEnumerableOperator", () => (AsyncEnumerable.Range(1, 3).Select(i => i * 2), typeof(IAsyncEnumerable<int>)), true);
#endif
        yield return Json("HandWrittenAsyncEnumerable", () => (new HandWrittenAsyncEnumerable(), typeof(IAsyncEnumerable<int>)), true);
        yield return Json("Stream", () => (new MemoryStream(s_bytes), typeof(Stream)), true);
        yield return Json("Enumerator", () => (new List<int> { 1 }.GetEnumerator(), typeof(IEnumerator<int>)), true);
        yield return Json("LinqOperator", () => (new List<int> { 1, 2 }.Select(i => i * 2), typeof(IEnumerable<int>)), true);
        yield return Json("YieldMethod", () => (Yielded(), typeof(IEnumerable<int>)), true);
        yield return Json("Lazy", () => (new Lazy<Alert>(() => new Alert("fall detected")), typeof(Lazy<Alert>)), true);
    }

    [TestCaseSource(nameof(Contents))]
    public void MustBuffer_ContentKind_IsAsExpected(Func<HttpContent?> create, bool expected)
    {
        using var content = create();

        Assert.That(ReplayableContent.MustBuffer(content), Is.EqualTo(expected));
    }

    [TestCaseSource(nameof(JsonValues))]
    public void MustBuffer_JsonContentOfValue_IsAsExpected(Func<(object? Value, Type Declared)> create, bool expected)
    {
        var (value, declared) = create();
        using var content = JsonContent.Create(value, declared);

        Assert.That(ReplayableContent.MustBuffer(content), Is.EqualTo(expected));
    }

    // The answer for a typical request body is on every request's path: it must cost no allocation.
    [Test]
    public void MustBuffer_PlainContents_AllocatesNothing()
    {
        using var text = new StringContent("{}", Encoding.UTF8, "application/json");
        using var poco = JsonContent.Create(new Alert("fall detected"));
        using var list = JsonContent.Create(new List<int> { 1, 2 });
        using var form = new FormUrlEncodedContent([new("a", "b")]);
        HttpContent[] contents = [text, poco, list, form];
        var buffered = contents.Count(ReplayableContent.MustBuffer);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            buffered += ReplayableContent.MustBuffer(contents[i % contents.Length]) ? 1 : 0;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(buffered, Is.Zero);
        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public void BufferSync_ReadOnceStream_ReplacementHasTheBytesTheHeadersAndItsLength()
    {
        var original = new StreamContent(new ReadOnceStream(s_bytes));
        original.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        original.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = "alert.json" };
        original.Headers.ContentLanguage.Add("en");

        using var replacement = ReplayableContent.BufferSync(original, CancellationToken.None);

        Assert.That(ReadSync(replacement), Is.EqualTo(s_bytes));
        Assert.That(ReadSync(replacement), Is.EqualTo(s_bytes), "read again");
        Assert.That(replacement.Headers.ContentType!.ToString(), Is.EqualTo("application/json; charset=utf-8"));
        Assert.That(replacement.Headers.ContentDisposition!.ToString(), Is.EqualTo("attachment; filename=alert.json"));
        Assert.That(replacement.Headers.ContentLanguage, Is.EqualTo(new[] { "en" }));
        Assert.That(replacement.Headers.ContentLength, Is.EqualTo(s_bytes.Length));
        Assert.That(() => ReadSync(original), Throws.InstanceOf<ObjectDisposedException>(), "the original is disposed");
    }

    [Test]
    public void BufferSync_ReadFails_ExceptionPropagatesUnchanged()
    {
        var failure = new InvalidOperationException("the body's source failed");
        using var original = new FailingContent(failure);

        var thrown = Assert.Throws<InvalidOperationException>(() => ReplayableContent.BufferSync(original, CancellationToken.None));

        Assert.That(thrown, Is.SameAs(failure));
    }

    // What HttpClient.Send does with such a body without this handler too: System.Text.Json has no synchronous path
    // for IAsyncEnumerable, and says so.
    [Test]
    public void BufferSync_JsonOfAsyncEnumerable_ThrowsNotSupportedNamingTheType()
    {
        using var original = JsonContent.Create(Numbers());

        var thrown = Assert.Throws<NotSupportedException>(() => ReplayableContent.BufferSync(original, CancellationToken.None));

        Assert.That(thrown!.Message, Does.Contain("IAsyncEnumerable").And.Contain("async serialization"));
    }

    [Test]
    public async Task BufferAsync_JsonOfDrainedChannel_EveryReadHasTheFirstBytes()
    {
        var channel = Channel.CreateUnbounded<int>();
        channel.Writer.TryWrite(1);
        channel.Writer.TryWrite(2);
        channel.Writer.Complete();
        using var content = JsonContent.Create(channel.Reader.ReadAllAsync());

        await ReplayableContent.BufferAsync(content, CancellationToken.None);

        Assert.That(await content.ReadAsStringAsync(), Is.EqualTo("[1,2]"));
        Assert.That(await content.ReadAsStringAsync(), Is.EqualTo("[1,2]"), "read again");
    }

    private static TestCaseData Row(string name, Func<HttpContent?> create, bool expected) =>
        new TestCaseData(create, expected).SetArgDisplayNames(name, expected ? "buffered" : "sent as it is");

    private static TestCaseData Json(string name, Func<(object?, Type)> create, bool expected) =>
        new TestCaseData(create, expected).SetArgDisplayNames(name, expected ? "buffered" : "sent as it is");

    private static byte[] ReadSync(HttpContent content)
    {
        using var buffer = new MemoryStream();
        content.CopyTo(buffer, context: null, CancellationToken.None);
        return buffer.ToArray();
    }

    private static async IAsyncEnumerable<int> Numbers()
    {
        await Task.Yield();
        yield return 1;
    }

    private static IEnumerable<int> Yielded()
    {
        yield return 1;
    }

    public sealed record Alert(string Kind);

    private sealed class HandWrittenAsyncEnumerable : IAsyncEnumerable<int>
    {
        public IAsyncEnumerator<int> GetAsyncEnumerator(CancellationToken cancellationToken = default) => Numbers().GetAsyncEnumerator(cancellationToken);
    }

    private sealed class DerivedStringContent(string content) : StringContent(content);

    private sealed class DerivedMultipartContent : MultipartContent;

    private sealed class Custom : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => Task.CompletedTask;

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return true;
        }
    }

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
