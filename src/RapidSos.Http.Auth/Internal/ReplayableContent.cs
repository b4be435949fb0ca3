using System.Net.Http.Json;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Which request contents can be sent a second time as they are, and the buffering for those that cannot, so that
/// the resend after a 401 carries the same bytes and the same content headers as the first send.
/// </summary>
internal static class ReplayableContent
{
    /// <summary>
    /// Whether <paramref name="content"/> must be buffered before the first send so that a retry can send it
    /// again. Contents that serialise from memory (strings, bytes, forms, JSON values) can be sent any number
    /// of times; a stream or a custom content may be read only once.
    /// </summary>
    public static bool MustBuffer(HttpContent? content)
    {
        switch (content)
        {
            case null:
            case ByteArrayContent: // StringContent and FormUrlEncodedContent too.
            case ReadOnlyMemoryContent:
            case JsonContent:
                return false;
            case MultipartContent multipart:
                foreach (var part in multipart)
                {
                    if (MustBuffer(part))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return true;
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
}
