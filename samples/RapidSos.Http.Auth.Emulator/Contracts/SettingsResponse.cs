namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>The answer of <c>GET|POST /_emulator/settings</c>: durations in the syntax the requests accept.</summary>
internal sealed record SettingsResponse(string TokenLifetime, string TokenLatency, bool RejectAllTokens);
