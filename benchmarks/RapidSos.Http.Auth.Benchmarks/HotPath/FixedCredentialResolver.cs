namespace RapidSos.Http.Auth.Benchmarks.HotPath;

/// <summary>
/// A resolver as the library asks for one: it keeps one <see cref="RapidSosCredential"/> instance and answers from
/// memory, synchronously, without allocating.
/// </summary>
internal sealed class FixedCredentialResolver : IRapidSosCredentialResolver
{
    public const string ClientId = "agency-resolved";
    public const string ClientSecret = "agency-resolved-secret";

    public RapidSosCredential Credential { get; } = new(ClientId, ClientSecret);

    public ValueTask<RapidSosCredential?> ResolveAsync(HttpRequestMessage request, CancellationToken cancellationToken) => new(Credential);
}
