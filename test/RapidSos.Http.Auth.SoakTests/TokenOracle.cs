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
/// <para>
/// A caller may also fail without any token request during its call: while no valid token exists and the last token
/// request was refused (4xx other than 408 and 429) or answered 429 or 503 with <c>Retry-After</c>, the library fails
/// callers at once until its backoff allows the next request (<see cref="ExplainsFailFast"/>).
/// </para>
/// </remarks>
internal sealed class TokenOracle(long origin)
{
    public static readonly TimeSpan ExpiryTolerance = TimeSpan.FromMilliseconds(100);

    public static readonly TimeSpan FailureTolerance = TimeSpan.FromMilliseconds(250);

    /// <summary>Added to every fail-fast window's upper bound, for the tap seeing an answer before the library acts on it and for a busy machine.</summary>
    public static readonly TimeSpan FailFastSlack = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long after a refused token request callers may be failed at once: the library's longest spacing after a
    /// refusal (1, 2, 4 s, capped at 5 s) plus its 10 % jitter, plus <see cref="FailFastSlack"/>: 6 s.
    /// </summary>
    public static readonly TimeSpan RefusedWindow = (TimeSpan.FromSeconds(5) * 1.1) + FailFastSlack;

    /// <summary>The longest <c>Retry-After</c> the library honours; a longer one is capped to this.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    private const int TimelineLength = 48;

    private readonly object _gate = new();
    private readonly Queue<string> _timeline = new(TimelineLength);
    private readonly Dictionary<string, long> _failuresByKind = new(StringComparer.Ordinal);
    private string? _latest;
    private TokenRequestRecord? _latestRequest;
    private bool _phaseOpen;
    private long _phaseSent;
    private long _phaseSentWithToken;
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

    /// <summary>The token request sent most recently, for a call to take at its start; null before the first one.</summary>
    public TokenRequestRecord? LatestRequest
    {
        get
        {
            lock (_gate)
            {
                return _latestRequest;
            }
        }
    }

    /// <summary>
    /// Whether a caller-visible <see cref="RapidSosAuthenticationException"/> that no token request during the call
    /// explains is a fail-fast the library is allowed: no valid token existed when the call started
    /// (<paramref name="tokenValidAtStart"/> is false), the most recent token request (the one sent last before the call
    /// started, <paramref name="latestAtStart"/>, or the one sent last before the failure) failed, with a refusal or a
    /// <c>Retry-After</c>, and the call failed (<paramref name="failedAt"/>) within that failure's backoff window
    /// (<see cref="TokenRequestRecord.FailFastWindow"/>). A transient failure (5xx, 408, 429 without Retry-After,
    /// reset, timeout, malformed answer) opens no such window: callers then wait for the next request and share it.
    /// </summary>
    public bool ExplainsFailFast(bool tokenValidAtStart, TokenRequestRecord? latestAtStart, long failedAt, out string kind)
    {
        kind = "none";
        if (tokenValidAtStart)
        {
            return false;
        }

        lock (_gate)
        {
            foreach (var candidate in (ReadOnlySpan<TokenRequestRecord?>)[latestAtStart, _latestRequest])
            {
                if (candidate is { Failed: true } failed && failed.FailFastWindow is { } window && failed.AnsweredAt <= failedAt
                    && failedAt <= failed.AnsweredAt + (long)(window.TotalSeconds * Stopwatch.Frequency))
                {
                    kind = $"{failed.Kind} fail-fast";
                    return true;
                }
            }

            kind = _latestRequest is { } latest ? latest.Describe() : "no token request yet";
            return false;
        }
    }

    /// <summary>Starts counting the token requests sent, for the refusal phase; returns the moment it started.</summary>
    public long OpenPhase()
    {
        lock (_gate)
        {
            _phaseOpen = true;
            _phaseSent = 0;
            _phaseSentWithToken = 0;
            var now = Stopwatch.GetTimestamp();
            Note(now, "refusal phase starts");
            return now;
        }
    }

    /// <summary>Stops counting; returns the moment it stopped, the token requests sent meanwhile, and how many of them while a valid token existed.</summary>
    public (long At, long Sent, long SentWithToken) ClosePhase()
    {
        lock (_gate)
        {
            _phaseOpen = false;
            var now = Stopwatch.GetTimestamp();
            Note(now, "refusal phase ends");
            return (now, _phaseSent, _phaseSentWithToken);
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

    private TokenRequestRecord OnSent()
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _sent);
        var record = new TokenRequestRecord(now);
        lock (_gate)
        {
            _inflight++;
            _maxInflight = Math.Max(_maxInflight, _inflight);
            _latestRequest = record;
            Note(now, HasValidTokenLocked(now) ? "sent (token valid)" : "sent (no valid token)");
            if (_phaseOpen)
            {
                _phaseSent++;
                if (HasValidTokenLocked(now))
                {
                    _phaseSentWithToken++;
                }
            }

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

        return record;
    }

    private void OnToken(TokenRequestRecord request, string token, TimeSpan lifetime)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _succeeded);
        var validUntil = request.SentAt + (long)((lifetime - ExpiryTolerance).TotalSeconds * Stopwatch.Frequency);
        lock (_gate)
        {
            _inflight--;
            request.Answer(now, failed: false, "issued", status: 200, retryAfter: null);
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

    private void OnFailure(TokenRequestRecord request, string kind, int? status, TimeSpan? retryAfter)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            _inflight--;
            request.Answer(now, failed: true, kind, status, retryAfter);
            _failuresByKind[kind] = _failuresByKind.GetValueOrDefault(kind) + 1;
            var valid = HasValidTokenLocked(now);
            if (!valid)
            {
                _lastNoTokenFailureAt = now;
                _lastNoTokenFailureKind = kind;
            }

            var window = request.FailFastWindow is { } w ? string.Create(CultureInfo.InvariantCulture, $", fail-fast window {w.TotalSeconds:0.0#} s") : string.Empty;
            Note(now, valid ? $"failed {kind} (token valid{window})" : $"failed {kind} (no valid token{window})");

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
            var sent = oracle.OnSent();
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancellationToken);
#if NET9_0_OR_GREATER
                await response.Content.LoadIntoBufferAsync(cancellationToken);
#else
                await response.Content.LoadIntoBufferAsync();
#endif
            }
            catch (Exception ex)
            {
                oracle.OnFailure(sent, ex is OperationCanceledException ? "timeout" : "reset", status: null, retryAfter: null);
                throw;
            }

            if (response.StatusCode != HttpStatusCode.OK)
            {
                var retryAfter = response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable ? ReadRetryAfter(response) : null;
                oracle.OnFailure(sent, ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), (int)response.StatusCode, retryAfter);
                return response;
            }

            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (TryReadToken(body, out var token, out var lifetime))
            {
                oracle.OnToken(sent, token, lifetime);
            }
            else
            {
                oracle.OnFailure(sent, "malformed", status: 200, retryAfter: null);
            }

            return response;
        }

        private static TimeSpan? ReadRetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero,
            _ => null,
        };

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

/// <summary>One token request as the tap saw it: when it was sent and, once answered, how it ended. Guarded by the oracle's lock.</summary>
internal sealed class TokenRequestRecord(long sentAt)
{
    public long SentAt { get; } = sentAt;

    public bool Answered { get; private set; }

    public bool Failed { get; private set; }

    public long AnsweredAt { get; private set; }

    /// <summary>What the request ran into: a status code, <c>reset</c>, <c>timeout</c> or <c>malformed</c>; <c>issued</c> for a token.</summary>
    public string Kind { get; private set; } = "in flight";

    public int? Status { get; private set; }

    public TimeSpan? RetryAfter { get; private set; }

    /// <summary>
    /// How long after this failed request the library may fail callers at once, or null when it may not (a success or a
    /// transient failure): <see cref="TokenOracle.RefusedWindow"/> after a refusal (400, 401, 403 and every other 4xx
    /// but 408 and 429); after a 429 or 503 with <c>Retry-After</c>, that delay (capped at 60 s) plus 10 % jitter plus
    /// <see cref="TokenOracle.FailFastSlack"/>.
    /// </summary>
    public TimeSpan? FailFastWindow => !Failed || Status is not { } status
        ? null
        : status is 429 or 503 && RetryAfter is { } delay
            ? (TimeSpan.FromTicks(Math.Min(delay.Ticks, TokenOracle.MaxRetryAfter.Ticks)) * 1.1) + TokenOracle.FailFastSlack
            : status is >= 400 and < 500 and not 408 and not 429
                ? TokenOracle.RefusedWindow
                : null;

    public void Answer(long at, bool failed, string kind, int? status, TimeSpan? retryAfter)
    {
        Answered = true;
        AnsweredAt = at;
        Failed = failed;
        Kind = retryAfter is { } delay ? string.Create(CultureInfo.InvariantCulture, $"{kind} Retry-After {delay.TotalSeconds:0.#} s") : kind;
        Status = status;
        RetryAfter = retryAfter;
    }

    public string Describe() => !Answered ? "last token request still in flight" : Failed ? $"last token request failed {Kind}, outside its fail-fast window or none" : "last token request issued a token";
}
