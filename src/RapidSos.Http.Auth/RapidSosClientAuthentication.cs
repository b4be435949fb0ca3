namespace RapidSos.Http.Auth;

/// <summary>
/// How the client id and client secret are sent to the token endpoint.
/// </summary>
public enum RapidSosClientAuthentication
{
    /// <summary>
    /// As the <c>client_id</c> and <c>client_secret</c> form fields of the token request, as the RapidSOS
    /// integration note documents. This is the default.
    /// </summary>
    FormFields = 0,

    /// <summary>
    /// As an HTTP Basic <c>Authorization</c> header (Base64 of <c>client_id:client_secret</c>), as some of
    /// RapidSOS's own mobile SDKs send them. The form then carries neither field.
    /// </summary>
    BasicHeader = 1,
}
