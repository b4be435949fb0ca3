namespace RapidSos.Http.Auth.Emulator;

/// <summary>A client the emulator accepts: an agency's client id and secret.</summary>
/// <remarks>A class rather than a record, so no generated <see cref="ToString"/> can ever show the secret.</remarks>
internal sealed class ClientCredentials(string clientId, string clientSecret)
{
    public string ClientId { get; } = clientId;

    public string ClientSecret { get; } = clientSecret;

    /// <summary>Returns the client id only.</summary>
    public override string ToString() => ClientId;
}
