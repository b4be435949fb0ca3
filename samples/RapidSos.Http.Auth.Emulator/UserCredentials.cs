namespace RapidSos.Http.Auth.Emulator;

/// <summary>A RapidSOS Portal user the password grant accepts, through one client or (<see cref="ClientId"/> null) any.</summary>
/// <remarks>A class rather than a record, so no generated <see cref="ToString"/> can ever show the password.</remarks>
internal sealed class UserCredentials(string? clientId, string username, string password)
{
    public string? ClientId { get; } = clientId;

    public string Username { get; } = username;

    public string Password { get; } = password;

    /// <summary>Returns the username and its client, never the password.</summary>
    public override string ToString() => ClientId is null ? $"{Username} (any client)" : $"{Username} (client {ClientId})";
}
