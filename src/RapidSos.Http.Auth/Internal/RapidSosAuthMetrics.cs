using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The library's instruments and activity source. Tags carry the registration name, the grant type and the
/// client id (not a secret); never a token, a password or a secret.
/// </summary>
internal sealed class RapidSosAuthMetrics : IDisposable
{
    private static readonly string? s_version = typeof(RapidSosAuthMetrics).Assembly.GetName().Version?.ToString();

    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    public RapidSosAuthMetrics(IMeterFactory? meterFactory)
    {
        // Through IMeterFactory when DI has one, so the meter is scoped to the container (and testable with
        // MetricCollector); a handler built by hand shares one process-wide meter.
        _meter = meterFactory?.Create(RapidSosAuthDefaults.MeterName, s_version) ?? new Meter(RapidSosAuthDefaults.MeterName, s_version);
        _ownsMeter = meterFactory is null;

        TokenRequests = _meter.CreateCounter<long>("rapidsos.auth.token_requests", "{request}",
            "Token requests sent to the RapidSOS token endpoint, by outcome.");
#if NET9_0_OR_GREATER
        // Token requests take milliseconds to seconds: without advice, OpenTelemetry's default buckets (0, 5, 10, ...
        // in the unit, seconds here) put every sample in the first one.
        TokenRequestDuration = _meter.CreateHistogram("rapidsos.auth.token_request.duration", "s",
            "Duration of token requests to the RapidSOS token endpoint.", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
#else
        TokenRequestDuration = _meter.CreateHistogram<double>("rapidsos.auth.token_request.duration", "s",
            "Duration of token requests to the RapidSOS token endpoint.");
#endif
        UnauthorizedRetries = _meter.CreateCounter<long>("rapidsos.auth.unauthorized_retries", "{retry}",
            "API requests answered 401 and resent once with a new token.");
        RefreshFailures = _meter.CreateCounter<long>("rapidsos.auth.refresh_failures", "{failure}",
            "Background refreshes ahead of expiry that failed while the current token stayed in use.");
        CacheHits = _meter.CreateCounter<long>("rapidsos.auth.cache_hits", "{token}",
            "Tokens served from the cache without a token request.");
        SharedTokens = _meter.CreateCounter<long>("rapidsos.auth.shared_tokens", "{token}",
            "Tokens another instance of the fleet fetched, taken from the shared token store instead of requested.");
        SharedStoreErrors = _meter.CreateCounter<long>("rapidsos.auth.shared_store.errors", "{error}",
            "Calls to the shared token store that failed or timed out; the instance went on alone.");
    }

    /// <summary>The bucket boundaries advised for the token request duration, in seconds (those of HTTP client durations in OpenTelemetry's semantic conventions).</summary>
    internal static IReadOnlyList<double> DurationBuckets { get; } = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    /// <summary>For handlers and providers built without DI.</summary>
    public static RapidSosAuthMetrics Shared { get; } = new(meterFactory: null);

    public static ActivitySource ActivitySource { get; } = new(RapidSosAuthDefaults.ActivitySourceName, s_version);

    public Counter<long> TokenRequests { get; }

    public Histogram<double> TokenRequestDuration { get; }

    public Counter<long> UnauthorizedRetries { get; }

    public Counter<long> RefreshFailures { get; }

    public Counter<long> CacheHits { get; }

    public Counter<long> SharedTokens { get; }

    public Counter<long> SharedStoreErrors { get; }

    public void RecordSharedToken(TokenRequestSettings settings)
    {
        if (SharedTokens.Enabled)
        {
            SharedTokens.Add(1, RegistrationTags(settings));
        }
    }

    public void RecordSharedStoreError(Exception error)
    {
        if (SharedStoreErrors.Enabled)
        {
            SharedStoreErrors.Add(1, new KeyValuePair<string, object?>("error.type", error is OperationCanceledException or TimeoutException ? "timeout" : error.GetType().Name));
        }
    }

    public void RecordTokenRequest(TokenRequestSettings settings, TimeSpan duration, Exception? failure)
    {
        if (!TokenRequests.Enabled && !TokenRequestDuration.Enabled)
        {
            return;
        }

        var tags = RegistrationTags(settings);
        tags.Add("rapidsos.outcome", failure is null ? "success" : "failure");
        if (failure is not null)
        {
            tags.Add("error.type", ErrorType(failure));
            if (failure is HttpRequestException { StatusCode: { } status })
            {
                tags.Add("http.response.status_code", (int)status);
            }
        }

        TokenRequests.Add(1, tags);
        TokenRequestDuration.Record(duration.TotalSeconds, tags);
    }

    public void RecordRefreshFailure(TokenRequestSettings settings)
    {
        if (RefreshFailures.Enabled)
        {
            RefreshFailures.Add(1, RegistrationTags(settings));
        }
    }

    public void RecordUnauthorizedRetry(string registration)
    {
        if (UnauthorizedRetries.Enabled)
        {
            UnauthorizedRetries.Add(1, new KeyValuePair<string, object?>("rapidsos.registration", registration));
        }
    }

    public static Activity? StartTokenRequestActivity(TokenRequestSettings settings)
    {
        var activity = ActivitySource.StartActivity("RapidSOS token request", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("server.address", settings.DisplayEndpoint.Host);
            activity.SetTag("server.port", settings.DisplayEndpoint.Port);
            activity.SetTag("url.full", settings.DisplayEndpoint.AbsoluteUri);
            activity.SetTag("rapidsos.registration", settings.DisplayName);
            activity.SetTag("rapidsos.grant_type", GrantTypeTag(settings.GrantType));
            activity.SetTag("rapidsos.client_id", settings.ClientId);
        }

        return activity;
    }

    public static void StopTokenRequestActivity(Activity? activity, DateTimeOffset? expiresAt, Exception? failure)
    {
        if (activity is null)
        {
            return;
        }

        if (failure is null)
        {
            activity.SetTag("http.response.status_code", 200);
            activity.SetTag("rapidsos.token.expires_at", expiresAt?.ToString("O", CultureInfo.InvariantCulture));
            activity.SetStatus(ActivityStatusCode.Ok);
        }
        else
        {
            activity.SetTag("error.type", ErrorType(failure));
            if (failure is HttpRequestException { StatusCode: { } status })
            {
                activity.SetTag("http.response.status_code", (int)status);
            }

            // The message names the endpoint, the status and the gateway's text, scrubbed of secrets.
            activity.SetStatus(ActivityStatusCode.Error, failure.Message);
        }

        activity.Dispose();
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    internal static string GrantTypeTag(RapidSosGrantType grantType) =>
        grantType == RapidSosGrantType.Password ? "password" : "client_credentials";

    /// <summary>
    /// A registration's own credentials are tagged with their client id; run-time ones are not, so 10,000 agencies
    /// do not become 10,000 time series (their logs and traces still name the client).
    /// </summary>
    private static TagList RegistrationTags(TokenRequestSettings settings)
    {
        var tags = new TagList
        {
            { "rapidsos.registration", settings.DisplayName },
            { "rapidsos.grant_type", GrantTypeTag(settings.GrantType) },
        };
        if (!settings.IsRunTime)
        {
            tags.Add("rapidsos.client_id", settings.ClientId);
        }

        return tags;
    }

    private static string ErrorType(Exception failure) => failure switch
    {
        HttpRequestException { StatusCode: HttpStatusCode.OK } => "invalid_response",
        HttpRequestException { StatusCode: { } status } => ((int)status).ToString(CultureInfo.InvariantCulture),
        { InnerException: OperationCanceledException or TimeoutException } => "timeout",
        { InnerException: HttpRequestException } => "network",
        RapidSosAuthenticationException => "invalid_response",
        _ => failure.GetType().Name,
    };
}
