namespace RapidSos.Http.Auth.Internal;

/// <summary>A token as a request for one brings it: from the gateway, or shared by another instance of the fleet.</summary>
/// <param name="Value">The token.</param>
/// <param name="Lifetime">How long it was granted for.</param>
/// <param name="IssuedAt">
/// When it was requested, on the wall clock of the instance that sent the request; <see langword="null"/> when this
/// instance's own request brought it, which then counts from when it was sent.
/// </param>
/// <param name="Shared">Another instance fetched it: no request was sent from this one.</param>
internal readonly record struct TokenGrant(string Value, TimeSpan Lifetime, DateTimeOffset? IssuedAt = null, bool Shared = false);
