using System.Text.Json;
using System.Text.Json.Serialization;

namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>
/// The body of <c>POST /_emulator/faults</c> and <c>POST /_emulator/api-faults</c>: one <see cref="Testing.EmulatorFault"/>,
/// described field by field; <see cref="FaultBuilder"/> checks it and builds the fault.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
internal sealed class FaultRequest
{
    /// <summary>Gets or sets the factory: status, detail, invalidClient, tooManyRequests, apigeeFault, oauthError, html, empty, redirect, malformedJson, connectionReset or stall.</summary>
    public string? Kind { get; set; }

    public int? Status { get; set; }

    public string? Body { get; set; }

    public string? ContentType { get; set; }

    public string? Detail { get; set; }

    public string? Faultstring { get; set; }

    public string? Errorcode { get; set; }

    public string? Error { get; set; }

    public string? ErrorDescription { get; set; }

    public string? Location { get; set; }

    /// <summary>Gets or sets the <c>Retry-After</c> to send: seconds as a number, or a duration string.</summary>
    public JsonElement? RetryAfter { get; set; }

    /// <summary>Gets or sets how long to hold the request first: seconds, a duration string, or <c>"infinite"</c> for kind stall.</summary>
    public JsonElement? Stall { get; set; }

    /// <summary>Gets or sets how many times to queue the fault: the next that many requests get it.</summary>
    public int? Count { get; set; }

    /// <summary>Gets or sets the client whose token requests get the fault; token faults only.</summary>
    public string? Client { get; set; }
}
