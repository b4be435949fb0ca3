namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>One control endpoint, as <c>GET /_emulator/</c> lists it.</summary>
internal sealed record EndpointInfo(string Method, string Path, string Description);
