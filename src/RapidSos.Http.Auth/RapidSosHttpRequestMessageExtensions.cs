using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth;

/// <summary>Chooses the RapidSOS credentials of one request.</summary>
public static class RapidSosHttpRequestMessageExtensions
{
    /// <summary>
    /// Authenticates <paramref name="request"/> with <paramref name="credential"/>'s token instead of the
    /// registration's own credentials or its <see cref="IRapidSosCredentialResolver"/>. The credential is stored in
    /// <see cref="HttpRequestMessage.Options"/>; the request still goes only to the registration's allowed origins.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="credential">The credentials; reuse one instance per agency or user.</param>
    /// <returns><paramref name="request"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static HttpRequestMessage WithRapidSosCredential(this HttpRequestMessage request, RapidSosCredential credential)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(credential);
        RequestCredential.Set(request, credential);
        return request;
    }
}
