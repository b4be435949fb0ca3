namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// What every credential set of one registration shares, computed once per options change: the token endpoint of
/// each grant (as called, as shown and as keyed), the client authentication and the refresh window. Thousands of
/// run-time credential sets point at one instance instead of each holding its own URIs.
/// </summary>
internal sealed class RegistrationEndpoints
{
    private readonly Uri _clientCredentials;
    private readonly Uri _password;
    private readonly Uri _clientCredentialsDisplay;
    private readonly Uri _passwordDisplay;
    private readonly string _clientCredentialsKey;
    private readonly string _passwordKey;

    private RegistrationEndpoints(RapidSosAuthOptions options)
    {
        // An explicit TokenEndpoint serves both grants; otherwise each grant has its own path under the base address.
        _clientCredentials = options.TokenEndpoint ?? new Uri(EnsureTrailingSlash(options.BaseAddress), RapidSosAuthDefaults.ClientCredentialsTokenPath);
        _password = options.TokenEndpoint ?? new Uri(EnsureTrailingSlash(options.BaseAddress), RapidSosAuthDefaults.PasswordTokenPath);
        _clientCredentialsDisplay = DisplayUri.Of(_clientCredentials);
        _passwordDisplay = DisplayUri.Of(_password);
        _clientCredentialsKey = _clientCredentials.AbsoluteUri;
        _passwordKey = _password.AbsoluteUri;
        BasicHeader = options.ClientAuthentication == RapidSosClientAuthentication.BasicHeader;
        RefreshBeforeExpiry = options.RefreshBeforeExpiry;
    }

    public bool BasicHeader { get; }

    public TimeSpan RefreshBeforeExpiry { get; }

    public static RegistrationEndpoints From(RapidSosAuthOptions options) => new(options);

    public Uri For(RapidSosGrantType grant) => grant == RapidSosGrantType.Password ? _password : _clientCredentials;

    public Uri DisplayFor(RapidSosGrantType grant) => grant == RapidSosGrantType.Password ? _passwordDisplay : _clientCredentialsDisplay;

    public string KeyFor(RapidSosGrantType grant) => grant == RapidSosGrantType.Password ? _passwordKey : _clientCredentialsKey;

    /// <summary>Whether run-time credential sets built on <paramref name="other"/> would send the same token requests.</summary>
    public bool SendsLike(RegistrationEndpoints other) =>
        _clientCredentialsKey == other._clientCredentialsKey && _passwordKey == other._passwordKey
        && BasicHeader == other.BasicHeader && RefreshBeforeExpiry == other.RefreshBeforeExpiry;

    private static Uri EnsureTrailingSlash(Uri baseAddress) =>
        baseAddress.AbsolutePath.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/", UriKind.Absolute);
}
