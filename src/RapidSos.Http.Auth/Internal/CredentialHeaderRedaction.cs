using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Makes HttpClient's own Trace logging (the factory's <c>LogicalHandler</c> and <c>ClientHandler</c> categories)
/// write <c>Authorization: *</c> and <c>Proxy-Authorization: *</c> for every client in the container: the token
/// client's Basic credentials and the API clients' bearer token. Microsoft.Extensions.Http 8.x redacts no header
/// unless told to; 9.x and later redact every header by default, which this keeps.
/// </summary>
/// <remarks>
/// The client's predicate is wrapped, not replaced (as <c>RedactLoggedHeaders</c> would), so whatever the
/// application or the 9.x default redacts stays redacted. As a post-configuration it runs after every
/// <c>Configure</c>, <c>RedactLoggedHeaders</c> included, whatever the order of registration. It applies to all
/// clients, not only those known to carry the bearer handler, because the handler can be attached in several ways
/// (<c>AddRapidSosBearerToken</c>, <c>AddHttpMessageHandler&lt;BearerTokenHandler&gt;</c>, client defaults), and
/// a credential redacted in one more client can only make logs safer. The predicate governs the formatted text
/// only: the header list those entries pass as structured state carries raw values on every version.
/// </remarks>
internal sealed class CredentialHeaderRedaction : IPostConfigureOptions<HttpClientFactoryOptions>
{
    public void PostConfigure(string? name, HttpClientFactoryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var previous = options.ShouldRedactHeaderValue;

        // The credential test comes first, so a predicate of the application's that throws is never asked about them.
        options.ShouldRedactHeaderValue = previous is null ? IsCredentialHeader : header => IsCredentialHeader(header) || previous(header);
    }

    private static bool IsCredentialHeader(string header) =>
        string.Equals(header, "Authorization", StringComparison.OrdinalIgnoreCase)
        || string.Equals(header, "Proxy-Authorization", StringComparison.OrdinalIgnoreCase);
}
