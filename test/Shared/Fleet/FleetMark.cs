namespace RapidSos.Http.Auth.Tests.Shared.Fleet;

/// <summary>A moment of a fleet run: the gateway's token request counts then, and each instance's report.</summary>
/// <param name="Name">What happened at this moment ("go", "redis killed"...).</param>
/// <param name="Timestamp">When (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>).</param>
/// <param name="TokenRequests">The gateway's <c>TokenRequestCount</c> then.</param>
/// <param name="SuccessfulTokenRequests">The gateway's <c>SuccessfulTokenRequestCount</c> then.</param>
/// <param name="Reports">Each running instance's snapshot, taken right after the counts, by instance name.</param>
internal sealed record FleetMark(string Name, long Timestamp, int TokenRequests, int SuccessfulTokenRequests, IReadOnlyDictionary<string, FleetInstanceReport> Reports);
