namespace RapidSos.Http.Auth.Tests.Shared.Fleet;

/// <summary>
/// The lines a fleet host and its driver exchange: the driver writes commands to the host's stdin, the host writes
/// events and reports to its stdout, one per line. Anything else a host writes (its logs) goes to stderr.
/// </summary>
internal static class FleetProtocol
{
    /// <summary>Host to driver: the container is built, no call made yet.</summary>
    public const string Ready = "ready";

    /// <summary>Host to driver: the first API call of the run succeeded.</summary>
    public const string FirstSuccess = "first-success";

    /// <summary>Host to driver, before a <see cref="FleetInstanceReport"/> that is not final.</summary>
    public const string SnapshotPrefix = "snapshot ";

    /// <summary>Host to driver, before the one final <see cref="FleetInstanceReport"/>; the host exits after it.</summary>
    public const string SummaryPrefix = "summary ";

    /// <summary>Driver to host: start the load (with <c>--wait-for-go</c>).</summary>
    public const string Go = "go";

    /// <summary>Driver to host: print a snapshot line now.</summary>
    public const string Snapshot = "snapshot";

    /// <summary>Driver to host: stop the load, print the summary and exit. The end of stdin means the same.</summary>
    public const string Stop = "stop";
}
