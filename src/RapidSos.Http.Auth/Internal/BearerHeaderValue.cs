using System.Net.Http.Headers;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The <c>Authorization: Bearer</c> value of one <see cref="AccessToken"/>, built once per token, that knows its
/// token: when the API answers 401, <see cref="BearerTokenHandler"/> reads the rejected token back from the request
/// instead of carrying it across the await, so a pending request costs no more than the header and the continuation.
/// </summary>
internal sealed class BearerHeaderValue : AuthenticationHeaderValue
{
    public BearerHeaderValue(AccessToken token)
        : base("Bearer", token.Value)
    {
        Token = token;
    }

    public AccessToken Token { get; }
}
