using System.Net.Http.Headers;
using System.Text;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// An immutable, validated snapshot of one registration's options: what a token request needs, built once per
/// options change rather than per request.
/// </summary>
internal sealed class TokenRequestSettings
{
    private readonly KeyValuePair<string, string>[] _form;
    private readonly AuthenticationHeaderValue? _basicHeader;

    private TokenRequestSettings(string name, RapidSosAuthOptions options)
    {
        Name = name;
        GrantType = options.GrantType;
        ClientId = options.ClientId!;
        Username = options.GrantType == RapidSosGrantType.Password ? options.Username : null;
        Scope = string.IsNullOrEmpty(options.Scope) ? null : options.Scope;
        RefreshBeforeExpiry = options.RefreshBeforeExpiry;
        Endpoint = options.TokenEndpoint ?? new Uri(
            EnsureTrailingSlash(options.BaseAddress),
            options.GrantType == RapidSosGrantType.Password ? RapidSosAuthDefaults.PasswordTokenPath : RapidSosAuthDefaults.ClientCredentialsTokenPath);
        DisplayEndpoint = DisplayUri.Of(Endpoint);

        var secret = options.ClientSecret!;
        var password = options.GrantType == RapidSosGrantType.Password ? options.Password : null;
        Scrubber = SecretScrubber.For(secret, password, options.ClientAuthentication == RapidSosClientAuthentication.BasicHeader ? ClientId : null);

        var form = new List<KeyValuePair<string, string>>(6)
        {
            new("grant_type", options.GrantType == RapidSosGrantType.Password ? "password" : "client_credentials"),
        };
        if (options.ClientAuthentication == RapidSosClientAuthentication.BasicHeader)
        {
            // RFC 6749 section 2.3.1: the id and the secret are form-encoded before Base64, and servers decode them
            // so ('+' becomes a space). For the unreserved characters Apigee issues both spellings are the same bytes.
            _basicHeader = new AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(FormEncoding.Encode(ClientId) + ":" + FormEncoding.Encode(secret))));
        }
        else
        {
            form.Add(new("client_id", ClientId));
            form.Add(new("client_secret", secret));
        }

        if (password is not null)
        {
            form.Add(new("username", options.Username!));
            form.Add(new("password", password));
        }

        if (Scope is not null)
        {
            form.Add(new("scope", Scope));
        }

        _form = [.. form];
        Key = new TokenCacheKey(Endpoint.AbsoluteUri, GrantType, ClientId, Username, Scope, TokenCacheKey.HashCredentials(secret, password));
    }

    public string Name { get; }

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

    /// <summary>Masks the values that must never reach a log or a message (the secret, the password, the Basic value) in gateway text.</summary>
    public SecretScrubber Scrubber { get; }

    /// <summary>
    /// Snapshots options that <see cref="Microsoft.Extensions.Options.IOptionsMonitor{TOptions}"/> has already
    /// validated (with <see cref="RapidSosAuthOptionsValidator"/>): they are not validated a second time here.
    /// </summary>
    public static TokenRequestSettings From(string name, RapidSosAuthOptions options) => new(name, options);

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

    private static Uri EnsureTrailingSlash(Uri baseAddress) =>
        baseAddress.AbsolutePath.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/", UriKind.Absolute);
}
