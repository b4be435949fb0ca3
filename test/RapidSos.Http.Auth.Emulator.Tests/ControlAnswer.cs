using System.Net;
using System.Text.Json;

namespace RapidSos.Http.Auth.Emulator.Tests;

/// <summary>A control API answer, read completely: status, body, headers.</summary>
public sealed record ControlAnswer(HttpStatusCode Status, string Body, string Headers, string? MediaType, string[] Allow)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string Error => Json.GetProperty("error").GetString()!;

    public override string ToString() => $"{(int)Status} {Body}";
}
