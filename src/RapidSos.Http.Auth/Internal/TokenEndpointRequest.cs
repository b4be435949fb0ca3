namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// A token request the library itself sends. Its type marks it, so a <see cref="BearerTokenHandler"/> that ended up on
/// the back-channel client (<c>ConfigureHttpClientDefaults(b =&gt; b.AddRapidSosBearerToken())</c> reaches every
/// client, the library's own too) passes it through untouched instead of waiting on itself for a token. A type check
/// costs the hot path nothing, unlike a look-up in <see cref="HttpRequestMessage.Options"/>, which allocates.
/// </summary>
internal sealed class TokenEndpointRequest(Uri endpoint) : HttpRequestMessage(HttpMethod.Post, endpoint);
