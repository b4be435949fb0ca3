namespace RapidSos.Http.Auth;

/// <summary>
/// The OAuth2 grant a registration uses to obtain RapidSOS access tokens.
/// </summary>
public enum RapidSosGrantType
{
    /// <summary>
    /// The application's own access (<c>grant_type=client_credentials</c>), posted to <c>oauth/token</c> by default.
    /// </summary>
    ClientCredentials = 0,

    /// <summary>
    /// The application acting for one RapidSOS Portal user (<c>grant_type=password</c>, with
    /// <see cref="RapidSosAuthOptions.Username"/> and <see cref="RapidSosAuthOptions.Password"/>),
    /// posted to <c>oauth/v2/token</c> by default.
    /// </summary>
    Password = 1,
}
