using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth;

/// <summary>
/// One credential set chosen at run time: an agency's client id and secret (client credentials) or, with
/// <see cref="ForUser"/>, a RapidSOS Portal user's password grant. Put it on a request with
/// <see cref="RapidSosHttpRequestMessageExtensions.WithRapidSosCredential"/>, return it from an
/// <see cref="IRapidSosCredentialResolver"/>, or ask <see cref="IRapidSosTokenCache"/> for its token.
/// </summary>
/// <remarks>
/// <para>
/// Credentials that are equal (the same client id, secret, grant, user, password and scope) share one token and one
/// token request, whichever instance carries them. Build one instance per agency or user and reuse it: its keyed
/// hash (what identifies it in the cache, never the secret itself) is computed once per instance, and a reused
/// instance finds its token without a look-up.
/// </para>
/// <para>
/// The secret and the password cannot be read back from it, and <see cref="ToString"/> shows the client id and the
/// user only. Instances are immutable and safe to share between threads.
/// </para>
/// </remarks>
public sealed class RapidSosCredential
{
    private string? _hash;

    /// <summary>Client credentials: an agency's client id and secret.</summary>
    /// <param name="clientId">The client id (consumer key) RapidSOS issued to the agency.</param>
    /// <param name="clientSecret">Its client secret.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An argument is empty or white space, or the client id contains a control character.</exception>
    public RapidSosCredential(string clientId, string clientSecret)
        : this(clientId, clientSecret, RapidSosGrantType.ClientCredentials, username: null, password: null)
    {
    }

    private RapidSosCredential(string clientId, string clientSecret, RapidSosGrantType grantType, string? username, string? password)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(clientId);
        ArgumentException.ThrowIfNullOrWhiteSpace(clientSecret);
        if (clientId.Any(char.IsControl))
        {
            throw new ArgumentException("The client id contains a control character.", nameof(clientId));
        }

        ClientId = clientId;
        ClientSecret = clientSecret;
        GrantType = grantType;
        Username = username;
        Password = password;
    }

    /// <summary>The client id (consumer key). Not a secret: it appears in logs.</summary>
    public string ClientId { get; }

    /// <summary><see cref="RapidSosGrantType.ClientCredentials"/>, or <see cref="RapidSosGrantType.Password"/> for <see cref="ForUser"/>.</summary>
    public RapidSosGrantType GrantType { get; }

    /// <summary>The Portal user of a password grant; <see langword="null"/> for client credentials.</summary>
    public string? Username { get; }

    /// <summary>The <c>scope</c> form field sent with the token request; none when <see langword="null"/> or empty.</summary>
    /// <exception cref="ArgumentException">The value contains a control character.</exception>
    public string? Scope
    {
        get;
        init
        {
            if (value is not null && value.Any(char.IsControl))
            {
                throw new ArgumentException("The scope contains a control character.", nameof(Scope));
            }

            field = string.IsNullOrEmpty(value) ? null : value;
        }
    }

    internal string ClientSecret { get; }

    internal string? Password { get; }

    /// <summary>The keyed hash of the secret and the password that identifies these credentials in the cache; computed once.</summary>
    internal string CredentialHash => _hash ??= TokenCacheKey.HashCredentials(ClientSecret, Password);

    /// <summary>Where this instance's token was last found, so a reused instance needs no look-up; owned by <see cref="CredentialSets"/>.</summary>
    internal volatile CredentialSet? Slot;

    /// <summary>A RapidSOS Portal user's password grant, with the agency's client id and secret.</summary>
    /// <param name="clientId">The agency's client id.</param>
    /// <param name="clientSecret">Its client secret.</param>
    /// <param name="username">The Portal user.</param>
    /// <param name="password">That user's password.</param>
    /// <returns>The credentials.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">An argument is empty, or the client id or the user name contains a control character.</exception>
    public static RapidSosCredential ForUser(string clientId, string clientSecret, string username, string password)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(username);
        ArgumentException.ThrowIfNullOrEmpty(password);
        if (username.Any(char.IsControl))
        {
            throw new ArgumentException("The user name contains a control character.", nameof(username));
        }

        return new RapidSosCredential(clientId, clientSecret, RapidSosGrantType.Password, username, password);
    }

    /// <summary>
    /// The same credentials with another <c>scope</c>: a separate credential set with its own token. Works for a
    /// password grant too, which <see cref="ForUser"/> builds without an object initializer.
    /// </summary>
    /// <param name="scope">The scope; none when <see langword="null"/> or empty.</param>
    /// <returns>New credentials.</returns>
    /// <exception cref="ArgumentException"><paramref name="scope"/> contains a control character.</exception>
    public RapidSosCredential WithScope(string? scope) =>
        new(ClientId, ClientSecret, GrantType, Username, Password) { Scope = scope };

    /// <summary>Names the client and the user; never the secret or the password.</summary>
    /// <returns>A description safe to log.</returns>
    public override string ToString() =>
        Username is null
            ? $"RapidSosCredential {{ ClientId = {ClientId}{(Scope is null ? string.Empty : $", Scope = {Scope}")} }}"
            : $"RapidSosCredential {{ ClientId = {ClientId}, Username = {Username}{(Scope is null ? string.Empty : $", Scope = {Scope}")} }}";
}
