namespace RapidSos.Http.Auth;

/// <summary>
/// Chooses the credentials of a request that carries none of its own (see
/// <see cref="RapidSosHttpRequestMessageExtensions.WithRapidSosCredential"/>): from the request (a header the typed
/// client set, its URI), from ambient context, or from a store of agencies' credentials. Register one per
/// registration with <c>services.AddRapidSosCredentialResolver&lt;TResolver&gt;(name)</c>.
/// </summary>
/// <remarks>
/// <para>
/// It is a singleton, called on every request of the registration that carries no credential, so it should answer
/// from memory: keep the <see cref="RapidSosCredential"/> instances it returns (one per agency or user) and refresh
/// them from the store in the background or on a miss. It may use scoped services through an
/// <c>IServiceScopeFactory</c>. On the synchronous path (<see cref="HttpClient.Send(HttpRequestMessage)"/>) a
/// resolution that does not complete at once is waited for.
/// </para>
/// <para>
/// Returning <see langword="null"/> means "the registration's own credentials"; a registration that has none then
/// fails the request with <see cref="InvalidOperationException"/> before anything is sent.
/// </para>
/// </remarks>
public interface IRapidSosCredentialResolver
{
    /// <summary>The credentials to authenticate <paramref name="request"/> with, or <see langword="null"/> for the registration's own.</summary>
    /// <param name="request">The request about to be sent.</param>
    /// <param name="cancellationToken">The request's cancellation.</param>
    /// <returns>The credentials, or <see langword="null"/>.</returns>
    ValueTask<RapidSosCredential?> ResolveAsync(HttpRequestMessage request, CancellationToken cancellationToken);
}
