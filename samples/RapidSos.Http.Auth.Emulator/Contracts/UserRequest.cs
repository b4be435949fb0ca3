using System.Text.Json.Serialization;

namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>The body of <c>POST /_emulator/users</c>. A class, not a record, so no generated ToString shows the password.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class UserRequest
{
    /// <summary>Gets or sets the client the user signs in through; null or absent for any client.</summary>
    public string? ClientId { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }
}
