namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>The answer of <c>GET /_emulator/counters</c> and <c>POST /_emulator/reset</c>: the emulator's exact counters.</summary>
internal sealed record CountersResponse(int TokenRequests, int SuccessfulTokenRequests, int ApiRequests, int Unauthorized);
