namespace RapidSos.Http.Auth.Tests.Resilience;

/// <summary>What one call cost, as the gateway and the handlers counted it.</summary>
/// <param name="TokenRequests">Requests that reached a token endpoint during the call.</param>
/// <param name="ApiRequests">Requests that reached the protected API during the call.</param>
/// <param name="Attempts">Times the pipeline called into the bearer handler.</param>
/// <param name="Error">What the call threw, if it threw.</param>
/// <param name="Result">What the call returned, if it returned.</param>
/// <param name="FakeElapsed">How far the test clock moved during the call: reported, never asserted.</param>
internal sealed record MatrixRun(int TokenRequests, int ApiRequests, int Attempts, Exception? Error, string? Result, TimeSpan FakeElapsed)
{
    /// <summary>The outcome in a few words, for the matrix table.</summary>
    public string Outcome => Error switch
    {
        null => Result ?? "(none)",
        RapidSosAuthenticationException e => $"RapidSosAuthenticationException {(e.StatusCode is { } s ? (int)s : 0)}",
        _ => Error.GetType().Name,
    };

    public string Row(string scenario, ResilienceOrder order, string pipeline) =>
        $"| {scenario} | {order} | {pipeline} | {TokenRequests} | {ApiRequests} | {Attempts} | {Outcome} | {FakeElapsed.TotalSeconds:0.#} s |";
}
