using System.Net;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The gateway's refusal of a token request, as the instance that sent it shares it with the fleet: until
/// <see cref="Until"/> no instance sends another, and their callers get this failure. <see cref="Attempts"/> counts
/// the fleet's consecutive failures, so the backoff grows across instances as it does within one.
/// </summary>
/// <param name="At">When the request failed.</param>
/// <param name="Until">When the next token request for the fleet may go out.</param>
/// <param name="Attempts">Consecutive failed requests for the fleet, at least 1.</param>
/// <param name="StatusCode">The gateway's status code; <see langword="null"/> when it did not answer.</param>
/// <param name="Message">The failure's message (already scrubbed of the credentials and the token).</param>
/// <param name="Detail">The gateway's explanation, if any (scrubbed).</param>
internal sealed record SharedRefusal(DateTimeOffset At, DateTimeOffset Until, int Attempts, HttpStatusCode? StatusCode, string Message, string? Detail);
