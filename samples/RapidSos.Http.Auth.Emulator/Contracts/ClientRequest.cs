using System.Text.Json.Serialization;

namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>The body of <c>POST /_emulator/clients</c>. A class, not a record, so no generated ToString shows the secret.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class ClientRequest
{
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }
}
