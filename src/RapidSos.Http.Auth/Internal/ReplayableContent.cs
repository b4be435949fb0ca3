using System.Collections;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Which request contents can be sent a second time as they are, and the buffering for those that cannot, so that
/// the resend after a 401 carries the same bytes and the same content headers as the first send.
/// </summary>
/// <remarks>
/// <para>
/// Sent as they are (they serialise from memory the same way each time): <see cref="StringContent"/>,
/// <see cref="ByteArrayContent"/>, <see cref="FormUrlEncodedContent"/>, <see cref="ReadOnlyMemoryContent"/>, a
/// <see cref="JsonContent"/> of a plain in-memory value, and a <see cref="MultipartContent"/> or
/// <see cref="MultipartFormDataContent"/> whose parts all are. These are exact types: a class derived from one of
/// them may serialise differently, so it is unknown.
/// </para>
/// <para>
/// Buffered: a <see cref="StreamContent"/>, seekable or not (its stream is private, so nothing says it can be read
/// again), a <see cref="JsonContent"/> of a lazy value (see <see cref="IsLazyJsonValue"/>), a multipart content with
/// any part that must be buffered, and every other content type.
/// </para>
/// </remarks>
internal static class ReplayableContent
{
    /// <summary>
    /// Whether <paramref name="content"/> must be buffered before the first send so that a resend carries the same
    /// bytes. Pure and allocation-free for everything but a multipart content, whose parts it enumerates.
    /// </summary>
    public static bool MustBuffer(HttpContent? content)
    {
        if (content is null)
        {
            return false;
        }

        // JsonContent and ReadOnlyMemoryContent are sealed; the others are compared exactly (see the remarks).
        if (content is JsonContent json)
        {
            return IsLazyJsonValue(json.Value, json.ObjectType);
        }

        var type = content.GetType();
        if (type == typeof(StringContent) || type == typeof(ByteArrayContent) || type == typeof(FormUrlEncodedContent) || type == typeof(ReadOnlyMemoryContent))
        {
            return false;
        }

        if (type == typeof(MultipartContent) || type == typeof(MultipartFormDataContent))
        {
            foreach (var part in (MultipartContent)content)
            {
                if (MustBuffer(part))
                {
                    return true;
                }
            }

            return false;
        }

        return true;
    }

    /// <summary>
    /// Whether a <see cref="JsonContent"/> of <paramref name="value"/>, declared as <paramref name="declaredType"/>,
    /// may serialise differently the second time. Decided from the value's type alone, without reflection over its
    /// members, so it is trim- and AOT-safe and allocates nothing.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Lazy, so buffered: a value declared as <see cref="IAsyncEnumerable{T}"/>; any <see cref="IAsyncDisposable"/>
    /// (every compiler-generated async iterator, <c>ChannelReader.ReadAllAsync</c> and the operators of
    /// System.Linq.AsyncEnumerable and System.Linq.Async are their own enumerators, so an <see cref="IAsyncEnumerable{T}"/> declared as <see cref="object"/>
    /// or as its concrete type is caught by this); a <see cref="Stream"/>; an <see cref="IEnumerator"/>; an
    /// <see cref="IEnumerable"/> that is not an <see cref="ICollection"/> (LINQ operators, <c>yield</c> methods,
    /// database readers), except <see cref="string"/>, <see cref="JsonNode"/> and <see cref="HashSet{T}"/>, which
    /// hold their items; and a <see cref="Lazy{T}"/>, whose <c>isValueCreated</c> turns true during the first send.
    /// </para>
    /// <para>
    /// Plain, so sent twice: <see langword="null"/>, primitives, strings, arrays, lists, dictionaries and other
    /// collections, <see cref="System.Text.Json.JsonDocument"/>, <see cref="System.Text.Json.JsonElement"/>,
    /// <see cref="JsonNode"/>, and objects (POCOs, records, anonymous types).
    /// </para>
    /// <para>
    /// What this cannot see: an object serialises from its properties at each send, so a POCO whose property is
    /// itself a one-shot source (an async stream, an iterator, a stream) is sent twice and its second send may
    /// differ. So may a hand-written <see cref="IAsyncEnumerable{T}"/> that is not <see cref="IAsyncDisposable"/>,
    /// passed as <see cref="object"/> or as its own type. Telling those apart would need reflection over the value's
    /// interfaces or properties, which trimming may remove. Wrap such a body in a <see cref="StreamContent"/> or
    /// serialise it first.
    /// </para>
    /// </remarks>
    public static bool IsLazyJsonValue(object? value, Type declaredType)
    {
        if (value is null)
        {
            return false;
        }

        if (IsConstructedFrom(declaredType, typeof(IAsyncEnumerable<>)))
        {
            return true;
        }

        switch (value)
        {
            case string:
            case JsonNode: // JsonArray and JsonObject enumerate their items but are not ICollection.
                return false;
            case Stream:
            case IEnumerator:
            case IAsyncDisposable:
                return true;
            case ICollection:
                return false;
            case IEnumerable:
                return !IsConstructedFrom(value.GetType(), typeof(HashSet<>));
            default:
                return IsConstructedFrom(value.GetType(), typeof(Lazy<>));
        }
    }

    /// <summary>
    /// Buffers <paramref name="content"/> in place, asynchronously: every later send, the resend included, is
    /// served from the buffer with the same headers.
    /// </summary>
    public static Task BufferAsync(HttpContent content, CancellationToken cancellationToken) =>
#if NET9_0_OR_GREATER
        content.LoadIntoBufferAsync(cancellationToken);
#else
        content.LoadIntoBufferAsync();
#endif

    /// <summary>
    /// Reads <paramref name="content"/> into memory, synchronously, and returns a replacement that can be sent any
    /// number of times, with the same headers; <paramref name="content"/> is then disposed. (HttpContent has no
    /// synchronous LoadIntoBuffer.) When reading fails, the exception propagates and <paramref name="content"/> is
    /// left as it is.
    /// </summary>
    /// <remarks>
    /// A <see cref="JsonContent"/> of an <see cref="IAsyncEnumerable{T}"/> cannot be serialised synchronously:
    /// System.Text.Json throws <see cref="NotSupportedException"/> naming the type, as it does when
    /// <see cref="HttpClient.Send(HttpRequestMessage)"/> sends such a content without this handler. That exception
    /// reaches the caller before anything is sent.
    /// </remarks>
    public static ByteArrayContent BufferSync(HttpContent content, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        content.CopyTo(buffer, context: null, cancellationToken);
        var replacement = new ByteArrayContent(buffer.GetBuffer(), 0, (int)buffer.Length);
        foreach (var header in content.Headers)
        {
            if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                replacement.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        content.Dispose();
        return replacement;
    }

    private static bool IsConstructedFrom(Type type, Type genericDefinition) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == genericDefinition;
}
