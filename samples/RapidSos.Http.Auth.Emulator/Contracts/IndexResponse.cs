namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>The answer of <c>GET /_emulator/</c>: where the gateway is and what the control API offers.</summary>
internal sealed record IndexResponse(string Gateway, string TokenEndpoint, string PasswordTokenEndpoint, IReadOnlyList<EndpointInfo> Endpoints);
