namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>
/// The answer of the clients and users endpoints: whom it was about and what happened (added, replaced, removed).
/// Never a secret or a password.
/// </summary>
internal sealed record CredentialResponse(string Result, string? ClientId = null, string? Username = null);
