namespace RapidSos.Http.Auth.Tests.Shared;

/// <summary>
/// A request or response body that can be read only once and has no length, like a network or pipe stream:
/// StreamContent cannot rewind it, so a resend must come from a buffer, and it is sent chunked.
/// </summary>
internal sealed class ReadOnceStream(byte[] data) : MemoryStream(data, writable: false)
{
    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();
}
