using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace RapidSos.Http.Auth.SoakTests;

/// <summary>
/// The soak's own view of the token, independent of the library's: every token request the library sends goes through
/// a <see cref="Tap"/> on the back-channel client, which records what it got and when. From that the oracle knows at
/// any moment whether the library holds a valid token (obtained, not revoked, not past the library's expiry, which is
/// the send time plus <c>expires_in</c>), so it can tell an acceptable caller-visible failure (no valid token existed
/// and the token request failed) from one that should not have happened.
/// </summary>
/// <remarks>
/// The tap sees a request a moment after the library reads its clock for the expiry, so the oracle counts a token as
/// valid only until <see cref="ExpiryTolerance"/> before its expiry by the tap's clock: a caller that fails in that
/// last instant is given the benefit of the doubt rather than flagged. Likewise the tap sees a failed answer a moment
/// before the library fails the request its callers wait for, and a caller may join in between: a failure counts for
/// calls that start up to <see cref="FailureTolerance"/> after the tap saw it.
/// </remarks>
internal sealed class TokenOracle(long origin)
{
    public static readonly TimeSpan ExpiryTolerance = TimeSpan.FromMilliseconds(100);

    public static readonly TimeSpan FailureTolerance = TimeSpan.FromMilliseconds(250);

    private const int TimelineLength = 48;

    private readonly object _gate = new();
    private readonly Queue<string> _timeline = new(TimelineLength);
    private readonly Dictionary<string, long> _failuresByKind = new(StringComparer.Ordinal);
    private string? _latest;
    private long _latestValidUntil;
    private bool _latestRevoked;
    private int _inflight;
    private int _maxInflight;
    private long _sent;
    private long _succeeded;
    private long _expiredOnArrival;
    private long _lastNoTokenFailureAt = long.MinValue;
    private string? _lastNoTokenFailureKind;
    private long _retryAfterUntil = long.MinValue;
    private long _sentDuringRetryAfterWithToken;
    private long _sentDuringRetryAfterWithoutToken;

    public int MaxConcurrentTokenRequests
    {
        get
        {
            lock (_gate)
            {
                return _maxInflight;
            }
        }
    }

    public int ConcurrentTokenRequests
    {
        get
        {
            lock (_gate)
            {
                return _inflight;
            }
        }
    }

    public long Sent => Interlocked.Read(ref _sent);

    public long Succeeded => Interlocked.Read(ref _succeeded);

    /// <summary>Tokens whose lifetime had run out (by the library's clock) before the answer came: a stalled request.</summary>
    public long ExpiredOnArrival => Interlocked.Read(ref _expiredOnArrival);

    /// <summary>Token requests sent while a 429's Retry-After was still running, while a valid token existed (background refreshes).</summary>
    public long SentDuringRetryAfterWithToken => Interlocked.Read(ref _sentDuringRetryAfterWithToken);

    /// <summary>Token requests sent while a 429's Retry-After was still running, while no valid token existed (callers waiting).</summary>
    public long SentDuringRetryAfterWithoutToken => Interlocked.Read(ref _sentDuringRetryAfterWithoutToken);

    public IReadOnlyDictionary<string, long> FailuresByKind
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, long>(_failuresByKind, StringComparer.Ordinal);
            }
        }
    }

    public long Failed
    {
        get
        {
            lock (_gate)
            {
                return _failuresByKind.Values.Sum();
            }
        }
    }

    /// <summary>The token the library was last given, for the revoker.</summary>
    public string? LatestToken
    {
        get
        {
            lock (_gate)
            {
                return _latest;
            }
        }
    }

    public bool HasValidToken(long now)
    {
        lock (_gate)
        {
            return HasValidTokenLocked(now);
        }
    }

    public void MarkRevoked(string token)
    {
        lock (_gate)
        {
            if (string.Equals(_latest, token, StringComparison.Ordinal))
            {
                _latestRevoked = true;
                Note(Stopwatch.GetTimestamp(), "revoked");
            }
        }
    }

    /// <summary>
    /// Whether a caller-visible <see cref="RapidSosAuthenticationException"/> of a call that started at
    /// <paramref name="callStart"/> is explained: a token request failed after the call started, at a moment when no
    /// valid token existed. <paramref name="kind"/> is what that request ran into.
    /// </summary>
    public bool ExplainsAuthenticationFailure(long callStart, out string kind)
    {
        lock (_gate)
        {
            kind = _lastNoTokenFailureKind ?? "none";
            return _lastNoTokenFailureAt >= callStart - (long)(FailureTolerance.TotalSeconds * Stopwatch.Frequency);
        }
    }

    /// <summary>The last token events (sent, issued, failed, revoked), oldest first, with their time since the run started.</summary>
    public string Timeline()
    {
        lock (_gate)
        {
            return string.Join(" | ", _timeline);
        }
    }

    private void Note(long at, string text)
    {
        if (_timeline.Count == TimelineLength)
        {
            _timeline.Dequeue();
        }

        _timeline.Enqueue(string.Create(CultureInfo.InvariantCulture, $"{Stopwatch.GetElapsedTime(origin, at).TotalSeconds:0.000} {text}"));
    }

    private bool HasValidTokenLocked(long now) =>
        _latest is not null && !_latestRevoked && now < _latestValidUntil;

    private long OnSent()
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _sent);
        lock (_gate)
        {
            _inflight++;
            _maxInflight = Math.Max(_maxInflight, _inflight);
            Note(now, HasValidTokenLocked(now) ? "sent (token valid)" : "sent (no valid token)");
            if (now < _retryAfterUntil)
            {
                if (HasValidTokenLocked(now))
                {
                    _sentDuringRetryAfterWithToken++;
                }
                else
                {
                    _sentDuringRetryAfterWithoutToken++;
                }
            }
        }

        return now;
    }

    private void OnToken(long sentAt, string token, TimeSpan lifetime)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _succeeded);
        var validUntil = sentAt + (long)((lifetime - ExpiryTolerance).TotalSeconds * Stopwatch.Frequency);
        lock (_gate)
        {
            _inflight--;
            _latest = token;
            _latestValidUntil = validUntil;
            _latestRevoked = false;
            if (validUntil <= now)
            {
                _expiredOnArrival++;
            }

            Note(now, validUntil <= now ? "issued, expired on arrival" : string.Create(CultureInfo.InvariantCulture, $"issued, valid until {Stopwatch.GetElapsedTime(origin, validUntil).TotalSeconds:0.000}"));
        }
    }

    private void OnFailure(string kind, TimeSpan? retryAfter)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            _inflight--;
            _failuresByKind[kind] = _failuresByKind.GetValueOrDefault(kind) + 1;
            var valid = HasValidTokenLocked(now);
            if (!valid)
            {
                _lastNoTokenFailureAt = now;
                _lastNoTokenFailureKind = kind;
            }

            Note(now, valid ? $"failed {kind} (token valid)" : $"failed {kind} (no valid token)");

            if (retryAfter is { } delay)
            {
                _retryAfterUntil = now + (long)(delay.TotalSeconds * Stopwatch.Frequency);
            }
        }
    }

    /// <summary>
    /// Added to the library's back-channel client (<see cref="RapidSosAuthDefaults.TokenClientName"/>): records every
    /// token request and its outcome, and passes the response on unchanged (buffered, so both can read it).
    /// </summary>
    internal sealed class Tap(TokenOracle oracle) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var sentAt = oracle.OnSent();
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancellationToken);
                await response.Content.LoadIntoBufferAsync(cancellationToken);
            }
            catch (Exception ex)
            {
                oracle.OnFailure(ex is OperationCanceledException ? "timeout" : "reset", retryAfter: null);
                throw;
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                var retryAfter = response.StatusCode == HttpStatusCode.TooManyRequests ? response.Headers.RetryAfter?.Delta : null;
                oracle.OnFailure(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), retryAfter);
                return response;
            }

            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (TryReadToken(body, out var token, out var lifetime))
            {
                oracle.OnToken(sentAt, token, lifetime);
            }
            else
            {
                oracle.OnFailure("malformed", retryAfter: null);
            }

            return response;
        }

        private static bool TryReadToken(byte[] body, out string token, out TimeSpan lifetime)
        {
            token = string.Empty;
            lifetime = TimeSpan.Zero;
            try
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                if (!root.TryGetProperty("access_token", out var value) || value.GetString() is not { Length: > 0 } text)
                {
                    return false;
                }

                token = text;
                var seconds = 3600.0;
                if (root.TryGetProperty("expires_in", out var expiresIn))
                {
                    seconds = expiresIn.ValueKind == JsonValueKind.String
                        ? double.Parse(expiresIn.GetString()!, CultureInfo.InvariantCulture)
                        : expiresIn.GetDouble();
                }

                lifetime = TimeSpan.FromSeconds(seconds);
                return true;
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
            {
                return false;
            }
        }
    }
}
