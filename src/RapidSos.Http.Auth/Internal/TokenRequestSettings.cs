using System.Net.Http.Headers;
using System.Text;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// An immutable snapshot of what a token request for one credential set needs: built once per options change for a
/// registration's own credentials (<see cref="From"/>), once per credential set for run-time ones
/// (<see cref="ForCredential"/>), never per request.
/// </summary>
internal sealed class TokenRequestSettings
{
    private readonly KeyValuePair<string, string>[] _form;
    private readonly AuthenticationHeaderValue? _basicHeader;
    private readonly string _secret;
    private readonly string? _password;
    private SecretScrubber? _scrubber;

    private TokenRequestSettings(
        string name,
        RegistrationEndpoints endpoints,
        RapidSosGrantType grantType,
        string clientId,
        string secret,
        string? username,
        string? password,
        string? scope,
        string credentialHash,
        bool isRunTime)
    {
        Name = name;
        GrantType = grantType;
        ClientId = clientId;
        Username = grantType == RapidSosGrantType.Password ? username : null;
        Scope = string.IsNullOrEmpty(scope) ? null : scope;
        RefreshBeforeExpiry = endpoints.RefreshBeforeExpiry;
        Endpoint = endpoints.For(grantType);
        DisplayEndpoint = endpoints.DisplayFor(grantType);
        IsRunTime = isRunTime;
        _secret = secret;
        _password = grantType == RapidSosGrantType.Password ? password : null;

        var form = new KeyValuePair<string, string>[2 + (endpoints.BasicHeader ? 0 : 2) + (_password is null ? 0 : 2) + (Scope is null ? 0 : 1)];
        var i = 0;
        form[i++] = new("grant_type", grantType == RapidSosGrantType.Password ? "password" : "client_credentials");
        if (endpoints.BasicHeader)
        {
            // RFC 6749 section 2.3.1: the id and the secret are form-encoded before Base64, and servers decode them
            // so ('+' becomes a space). For the unreserved characters Apigee issues both spellings are the same bytes.
            _basicHeader = new AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(FormEncoding.Encode(ClientId) + ":" + FormEncoding.Encode(secret))));
        }
        else
        {
            form[i++] = new("client_id", ClientId);
            form[i++] = new("client_secret", secret);
        }

        if (_password is not null)
        {
            form[i++] = new("username", Username!);
            form[i++] = new("password", _password);
        }

        if (Scope is not null)
        {
            form[i++] = new("scope", Scope);
        }

        _form = i == form.Length ? form : form[..i];
        Key = new TokenCacheKey(endpoints.KeyFor(grantType), GrantType, ClientId, Username, Scope, credentialHash, endpoints.BasicHeader, isRunTime);
    }

    public string Name { get; }

    /// <summary>The registration's name as logs, tags and the health check show it: <c>(default)</c> for the default one.</summary>
    public string DisplayName => RegistrationName.Display(Name);

    public RapidSosGrantType GrantType { get; }

    public string ClientId { get; }

    public string? Username { get; }

    public string? Scope { get; }

    public TimeSpan RefreshBeforeExpiry { get; }

    /// <summary>The token endpoint as called.</summary>
    public Uri Endpoint { get; }

    /// <summary>The token endpoint without user information, query or fragment: safe for messages and logs.</summary>
    public Uri DisplayEndpoint { get; }

    public TokenCacheKey Key { get; }

    /// <summary>Credentials chosen at run time rather than the registration's own: metrics are not tagged with their client id.</summary>
    public bool IsRunTime { get; }

    /// <summary>
    /// Masks the values that must never reach a log or a message (the secret, the password, the Basic value) in gateway
    /// text. Built on first use, on an error path: thousands of run-time credential sets need not each hold one.
    /// </summary>
    public SecretScrubber Scrubber => _scrubber ??= SecretScrubber.For(_secret, _password, _basicHeader is null ? null : ClientId);

    /// <summary>
    /// Snapshots a registration's own credentials from options that <see cref="Microsoft.Extensions.Options.IOptionsMonitor{TOptions}"/>
    /// has already validated (with <see cref="RapidSosAuthOptionsValidator"/>): they are not validated a second time here.
    /// </summary>
    public static TokenRequestSettings From(string name, RapidSosAuthOptions options)
    {
        var password = options.GrantType == RapidSosGrantType.Password ? options.Password : null;
        return new(
            name,
            RegistrationEndpoints.From(options),
            options.GrantType,
            options.ClientId!,
            options.ClientSecret!,
            options.Username,
            password,
            options.Scope,
            TokenCacheKey.HashCredentials(options.ClientSecret!, password),
            isRunTime: false);
    }

    /// <summary>Run-time credentials, sent to the registration's token endpoint with its client authentication and refresh window.</summary>
    public static TokenRequestSettings ForCredential(string name, RegistrationEndpoints endpoints, RapidSosCredential credential) =>
        new(
            name,
            endpoints,
            credential.GrantType,
            credential.ClientId,
            credential.ClientSecret,
            credential.Username,
            credential.Password,
            credential.Scope,
            credential.CredentialHash,
            isRunTime: true);

    /// <summary>This credential set's keys and seal in a shared token store (the secrets stay here).</summary>
    /// <exception cref="ArgumentException">A credential is not well-formed UTF-16.</exception>
    /// <exception cref="PlatformNotSupportedException">AES-GCM is not available.</exception>
    public SharedTokenProtector CreateSharedProtector() =>
        new(Endpoint, GrantType, ClientId, _secret, Username, _password, Scope);

    public HttpRequestMessage CreateRequest()
    {
        var request = new TokenEndpointRequest(Endpoint)
        {
            // FormUrlEncodedContent escapes every value per application/x-www-form-urlencoded (UTF-8, '+' for space).
            Content = new FormUrlEncodedContent(_form),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.CacheControl = new CacheControlHeaderValue { NoStore = true };
        if (_basicHeader is not null)
        {
            request.Headers.Authorization = _basicHeader;
        }

        return request;
    }
}
