using System.Text.Json;
using System.Text.Json.Serialization;

namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>The body of <c>POST /_emulator/settings</c>: each field given is changed, for the token requests that follow.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class SettingsRequest
{
    public JsonElement? TokenLifetime { get; set; }

    public JsonElement? TokenLatency { get; set; }

    public bool? RejectAllTokens { get; set; }
}
