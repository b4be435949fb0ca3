namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>
/// The answer of <c>POST /_emulator/revoke</c>: what was revoked (all, client, user or token), and for a token whether
/// it was known. A revoked token is never sent back.
/// </summary>
internal sealed record RevokeResponse(string Revoked, string? Client = null, string? User = null, bool? Found = null);
