namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>The body of every control API error: what was wrong, naming the field or parameter.</summary>
internal sealed record ErrorResponse(string Error);
