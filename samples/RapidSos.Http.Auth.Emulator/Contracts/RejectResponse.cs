namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>The answer of <c>POST /_emulator/reject</c>: whether the API now refuses every token.</summary>
internal sealed record RejectResponse(bool RejectAllTokens);
