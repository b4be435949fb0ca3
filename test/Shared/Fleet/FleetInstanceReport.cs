namespace RapidSos.Http.Auth.Tests.Shared.Fleet;

/// <summary>
/// What one fleet host has seen so far (a <c>snapshot</c> line) or in its whole run (its one <c>summary</c> line),
/// written by the host as one JSON line and read back by the driver. Counts, never a secret or a token.
/// </summary>
/// <remarks>Compiled into the host and into every driver (test/Shared/Fleet), so both sides read the same shape.</remarks>
internal sealed record FleetInstanceReport
{
    /// <summary>The instance's name, given by the driver (<c>--name</c>).</summary>
    public string Instance { get; init; } = string.Empty;

    /// <summary>The host's process id.</summary>
    public int ProcessId { get; init; }

    /// <summary>Whether this is the summary of a finished run rather than a snapshot of one that goes on.</summary>
    public bool Final { get; init; }

    /// <summary>API calls made (answered or failed).</summary>
    public long ApiCalls { get; init; }

    /// <summary>API calls answered with a 2xx status.</summary>
    public long Successes { get; init; }

    /// <summary>Failed API calls by kind: <c>status:NNN</c> for an answer that is not 2xx, else the exception's type name.</summary>
    public Dictionary<string, long> Failures { get; init; } = [];

    /// <summary>The longest an API call took, in milliseconds.</summary>
    public double MaxLatencyMs { get; init; }

    /// <summary>Token requests this instance sent to the gateway (<c>rapidsos.auth.token_requests</c>), answered or not.</summary>
    public long TokenRequests { get; init; }

    /// <summary>Of <see cref="TokenRequests"/>, those that failed.</summary>
    public long FailedTokenRequests { get; init; }

    /// <summary>Tokens taken from the shared store instead of requested (<c>rapidsos.auth.shared_tokens</c>).</summary>
    public long SharedTokens { get; init; }

    /// <summary>Shared store calls that failed or timed out (<c>rapidsos.auth.shared_store.errors</c>).</summary>
    public long SharedStoreErrors { get; init; }

    /// <summary>API calls resent once after a 401 (<c>rapidsos.auth.unauthorized_retries</c>).</summary>
    public long UnauthorizedRetries { get; init; }

    /// <summary>Seconds since the load started (the <c>go</c>), or 0 before it.</summary>
    public double ElapsedSeconds { get; init; }

    /// <summary>All failed API calls, whatever their kind.</summary>
    public long FailedCalls => Failures.Values.Sum();

    /// <summary>One line for a failure message or a log.</summary>
    public string Describe() => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"{Instance}: {ApiCalls} calls, {Successes} ok, failed [{string.Join(", ", Failures.Select(f => $"{f.Key}={f.Value}"))}], max {MaxLatencyMs:0.0} ms; token requests {TokenRequests} ({FailedTokenRequests} failed), shared tokens {SharedTokens}, store errors {SharedStoreErrors}, 401 resends {UnauthorizedRetries}, {ElapsedSeconds:0.00} s");
}
