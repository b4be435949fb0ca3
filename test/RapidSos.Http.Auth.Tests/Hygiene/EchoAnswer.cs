namespace RapidSos.Http.Auth.Tests.Hygiene;

/// <summary>What <see cref="EchoGateway"/> answers a token request with.</summary>
/// <param name="Status">The HTTP status code.</param>
/// <param name="ContentType">The <c>Content-Type</c> of the body.</param>
/// <param name="Body">The body, sent as UTF-8.</param>
/// <param name="RetryAfterSeconds">A <c>Retry-After</c> header, or <see langword="null"/> for none.</param>
internal sealed record EchoAnswer(int Status, string ContentType, string Body, int? RetryAfterSeconds);
