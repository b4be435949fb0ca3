namespace RapidSos.Http.Auth;

/// <summary>
/// Settings of one RapidSOS credential set (a registration). Bind it from configuration or set it in code;
/// it is read through <c>IOptionsMonitor</c>, so a changed secret takes effect at the next token request.
/// </summary>
/// <remarks>
/// <see cref="ToString"/> never shows <see cref="ClientSecret"/> or <see cref="Password"/>.
/// </remarks>
public sealed class RapidSosAuthOptions
{
    /// <summary>
    /// Gets or sets the base address of the RapidSOS environment. The bearer token is attached only to requests
    /// whose origin (scheme, host, port) is this address's, or one of <see cref="AdditionalOrigins"/>.
    /// </summary>
    /// <value>The default is <see cref="RapidSosEnvironment.Sandbox"/>.</value>
    public Uri BaseAddress { get; set; } = RapidSosEnvironment.Sandbox;

    /// <summary>
    /// Gets or sets the absolute address of the token endpoint, when it is not the default for the grant
    /// (for example an alerts integration on another host, or a path with a trailing slash).
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: <see cref="BaseAddress"/> + <c>oauth/token</c> for
    /// <see cref="RapidSosGrantType.ClientCredentials"/>, + <c>oauth/v2/token</c> for
    /// <see cref="RapidSosGrantType.Password"/>.
    /// </value>
    public Uri? TokenEndpoint { get; set; }

    /// <summary>
    /// Gets or sets the OAuth2 grant used to obtain tokens.
    /// </summary>
    /// <value>The default is <see cref="RapidSosGrantType.ClientCredentials"/>.</value>
    public RapidSosGrantType GrantType { get; set; } = RapidSosGrantType.ClientCredentials;

    /// <summary>
    /// Gets or sets the client id (the application's consumer key). Required.
    /// </summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// Gets or sets the client secret. Required. It is a secret: it is never logged, never part of an exception
    /// message, and never used as a cache key (a salted hash of it is).
    /// </summary>
    public string? ClientSecret { get; set; }

    /// <summary>
    /// Gets or sets the RapidSOS Portal user name. Required for <see cref="RapidSosGrantType.Password"/>.
    /// </summary>
    public string? Username { get; set; }

    /// <summary>
    /// Gets or sets the RapidSOS Portal user's password. Required for <see cref="RapidSosGrantType.Password"/>;
    /// treated as a secret like <see cref="ClientSecret"/>.
    /// </summary>
    public string? Password { get; set; }

    /// <summary>
    /// Gets or sets the scope sent as the <c>scope</c> form field (for example <c>alerts</c>).
    /// </summary>
    /// <value>The default is <see langword="null"/>: no <c>scope</c> field is sent.</value>
    public string? Scope { get; set; }

    /// <summary>
    /// Gets or sets how the client id and secret reach the token endpoint.
    /// </summary>
    /// <value>The default is <see cref="RapidSosClientAuthentication.FormFields"/>.</value>
    public RapidSosClientAuthentication ClientAuthentication { get; set; } = RapidSosClientAuthentication.FormFields;

    /// <summary>
    /// Gets or sets how long before expiry one background refresh starts while callers keep using the current
    /// token. For tokens whose lifetime is short compared with this window, the refresh starts once a fifth of
    /// the lifetime remains instead, so every token is used for most of its life. <see cref="TimeSpan.Zero"/>
    /// turns refresh-ahead off (a new token is then fetched, with callers waiting, once the old one expires).
    /// </summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan RefreshBeforeExpiry { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets whether <see cref="BearerTokenHandler"/> answers a 401 from the API by refreshing the token
    /// and resending the request once.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool RetryOnUnauthorized { get; set; } = true;

    /// <summary>
    /// Gets or sets whether the first token is fetched while the host starts, so that a wrong secret fails the
    /// deployment with the gateway's message instead of failing the first real call, and the first call pays no
    /// token latency. Needs a host (<c>IHostedService</c>); without one nothing changes.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool AcquireTokenOnStart { get; set; }

    /// <summary>
    /// Gets or sets how many run-time credential sets (<see cref="RapidSosCredential"/>s, one per agency or user) this
    /// registration keeps with their tokens. Beyond it the least recently used set is dropped, and fetched again if
    /// it is used again.
    /// </summary>
    /// <value>The default is 10,000. It must be at least 1.</value>
    public int MaxCredentialSets { get; set; } = 10_000;

    /// <summary>Whether the registration has credentials of its own (<see cref="ClientId"/> and <see cref="ClientSecret"/>), rather than only run-time ones.</summary>
    internal bool HasStaticCredentials => !string.IsNullOrWhiteSpace(ClientId) || !string.IsNullOrWhiteSpace(ClientSecret);

    /// <summary>
    /// Gets the origins (scheme, host and port; any path is ignored) besides <see cref="BaseAddress"/> that may
    /// receive the bearer token, for RapidSOS products served from another host. A request to any other origin
    /// fails before it is sent.
    /// </summary>
    /// <value>The default is an empty list.</value>
    public IList<Uri> AdditionalOrigins { get; } = new List<Uri>();

    /// <summary>Values from configuration that could not be converted; reported by the options validator.</summary>
    internal List<string> BindingErrors { get; } = [];

    /// <summary>The configuration section these options were bound from, if any ("" for the root), so errors can name the key.</summary>
    internal string? ConfigurationPath { get; set; }

    /// <summary>
    /// Returns a description of the registration that names the client and endpoint but never the secret or
    /// the password.
    /// </summary>
    /// <returns>A description safe to log: URLs are shown without user information, query or fragment.</returns>
    public override string ToString() =>
        $"RapidSosAuthOptions {{ BaseAddress = {Show(BaseAddress)}, TokenEndpoint = {Show(TokenEndpoint)}, GrantType = {GrantType}, " +
        $"ClientId = {ClientId}, ClientSecret = {(string.IsNullOrEmpty(ClientSecret) ? "(not set)" : "***")}, " +
        $"Username = {Username}, Password = {(string.IsNullOrEmpty(Password) ? "(not set)" : "***")}, Scope = {Scope} }}";

    private static Uri? Show(Uri? uri) => uri is null ? null : Internal.DisplayUri.Of(uri);
}
