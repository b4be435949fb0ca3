namespace RapidSos.Http.Auth;

/// <summary>
/// Names and defaults shared by every RapidSOS authentication registration.
/// </summary>
public static class RapidSosAuthDefaults
{
    /// <summary>
    /// The name of the <see cref="System.Net.Http.HttpClient"/> that posts token requests (the back channel).
    /// It never carries the bearer handler, nor any handler configured for every client
    /// (<c>ConfigureHttpClientDefaults</c>, such as the standard resilience handler of .NET Aspire's service
    /// defaults): the library spaces and shares its token requests itself. Configure it by name with
    /// <c>services.AddHttpClient(RapidSosAuthDefaults.TokenClientName)</c> to change its timeout or add a
    /// resilience handler of your choice, which it keeps. By default it has a 30 second timeout and does not follow
    /// redirects, so client credentials are never re-posted to another host.
    /// </summary>
    public const string TokenClientName = "RapidSos.Http.Auth.TokenEndpoint";

    /// <summary>
    /// The name of the <see cref="System.Diagnostics.Metrics.Meter"/> the library reports to, <c>RapidSos.Http.Auth</c>:
    /// pass it to OpenTelemetry's <c>AddMeter</c>.
    /// </summary>
    public const string MeterName = "RapidSos.Http.Auth";

    /// <summary>
    /// The name of the <see cref="System.Diagnostics.ActivitySource"/> that traces token requests,
    /// <c>RapidSos.Http.Auth</c>: pass it to OpenTelemetry's <c>AddSource</c>.
    /// </summary>
    public const string ActivitySourceName = "RapidSos.Http.Auth";

    /// <summary>
    /// The relative path of the client-credentials token endpoint, <c>oauth/token</c>.
    /// </summary>
    public const string ClientCredentialsTokenPath = "oauth/token";

    /// <summary>
    /// The relative path of the password-grant token endpoint, <c>oauth/v2/token</c>.
    /// </summary>
    public const string PasswordTokenPath = "oauth/v2/token";

    /// <summary>
    /// The token lifetime assumed when a token response has no <c>expires_in</c>: 3600 seconds.
    /// </summary>
    public static TimeSpan DefaultTokenLifetime { get; } = TimeSpan.FromSeconds(3600);
}
