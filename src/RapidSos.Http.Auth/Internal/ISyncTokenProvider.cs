namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The synchronous counterpart of <see cref="ITokenProvider"/>, for <see cref="HttpClient.Send(HttpRequestMessage)"/>:
/// a token request made on the caller's thread with the back channel's synchronous <c>Send</c>, sharing the
/// cache and single flight of the asynchronous path. No sync-over-async.
/// </summary>
internal interface ISyncTokenProvider
{
    AccessToken GetToken(CancellationToken cancellationToken);

    AccessToken RefreshToken(AccessToken rejected, CancellationToken cancellationToken);
}
