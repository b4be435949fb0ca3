namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>The answer of <c>POST /_emulator/faults|api-faults</c>: the fault queued (as <c>EmulatorFault.ToString()</c>), how many times, and for whom.</summary>
internal sealed record FaultsResponse(string Queue, string Fault, int Queued, string? Client = null);
