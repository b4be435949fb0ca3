namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Where a request's own credential lives: in <see cref="HttpRequestMessage.Options"/>. Reading that property
/// creates the options bag of a request that has none (an allocation on every request), so the handler reads it only
/// once some request in the process has carried a credential.
/// </summary>
internal static class RequestCredential
{
    private static readonly HttpRequestOptionsKey<RapidSosCredential> s_key = new("RapidSos.Http.Auth.Credential");
    private static volatile bool s_used;

    public static void Set(HttpRequestMessage request, RapidSosCredential credential)
    {
        s_used = true;
        request.Options.Set(s_key, credential);
    }

    public static RapidSosCredential? Of(HttpRequestMessage request) =>
        s_used && request.Options.TryGetValue(s_key, out var credential) ? credential : null;
}
