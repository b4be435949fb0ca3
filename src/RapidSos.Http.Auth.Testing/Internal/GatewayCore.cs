using System.Collections.Concurrent;
using System.Text;

namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>
/// The emulated gateway: maps a request (method, path, headers, body) to an answer (status, headers, body), and holds
/// all the state the controls change. The Kestrel and in-memory adapters are thin shells around
/// <see cref="ProcessAsync"/>, so both forms behave identically.
/// </summary>
/// <remarks>Thread-safe: every field is either immutable, concurrent, or read and written atomically.</remarks>
internal sealed class GatewayCore
{
    private const string TokenPath = "/oauth/token";
    private const string PasswordTokenPath = "/oauth/v2/token";
    private const string ApiPrefix = "/v1/";
    private const string BearerPrefix = "Bearer ";
    private const string BasicScheme = "Basic";

    private static readonly HashSet<string> KnownTokenFields =
        new(["grant_type", "client_id", "client_secret", "username", "password", "scope"], StringComparer.Ordinal);

    private static readonly KeyValuePair<string, string>[] TokenResponseHeaders =
        [new("Cache-Control", "no-store"), new("Pragma", "no-cache")];

    private readonly TimeProvider _timeProvider;
    private readonly TokenFormat _tokenFormat;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ConcurrentQueue<EmulatorFault> _tokenFaults = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<EmulatorFault>> _clientTokenFaults = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<EmulatorFault> _apiFaults = new();

    private long _tokenLifetimeTicks;
    private long _tokenLatencyTicks;
    private volatile bool _rejectAllTokens;
    private volatile Func<EmulatorRequest, EmulatorFault?>? _tokenFaultRule;
    private volatile Func<EmulatorRequest, EmulatorFault?>? _apiFaultRule;

    public GatewayCore(RapidSosGatewayEmulatorOptions options)
    {
        _timeProvider = options.TimeProvider;
        _tokenFormat = new TokenFormat(options.TokenTypeValue, options.MisspellAccessToken, options.NumbersAsStrings, options.IssuedAtInMilliseconds);
        _tokenLifetimeTicks = options.TokenLifetime.Ticks;
        _tokenLatencyTicks = options.TokenLatency.Ticks;
        Recorder = new RequestRecorder(options.MaxRecordedRequests);
        if (options.ClientId is not null)
        {
            Credentials.SetClient(options.ClientId, options.ClientSecret ?? string.Empty);
        }

        if (options.Username is not null)
        {
            Credentials.SetUser(options.Username, options.Password ?? string.Empty, clientId: null);
        }
    }

    public CredentialStore Credentials { get; } = new();

    public TokenStore Tokens { get; } = new();

    public RequestRecorder Recorder { get; }

    public bool IsShutDown => _shutdown.IsCancellationRequested;

    public TimeSpan TokenLifetime
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _tokenLifetimeTicks));
        set => Interlocked.Exchange(ref _tokenLifetimeTicks, value.Ticks);
    }

    public TimeSpan TokenLatency
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _tokenLatencyTicks));
        set => Interlocked.Exchange(ref _tokenLatencyTicks, value.Ticks);
    }

    public bool RejectAllTokens
    {
        get => _rejectAllTokens;
        set => _rejectAllTokens = value;
    }

    public Func<EmulatorRequest, EmulatorFault?>? TokenFaultRule
    {
        get => _tokenFaultRule;
        set => _tokenFaultRule = value;
    }

    public Func<EmulatorRequest, EmulatorFault?>? ApiFaultRule
    {
        get => _apiFaultRule;
        set => _apiFaultRule = value;
    }

    public DateTimeOffset Now => _timeProvider.GetUtcNow();

    public void EnqueueTokenFault(EmulatorFault fault) => _tokenFaults.Enqueue(fault);

    public void EnqueueTokenFault(string clientId, EmulatorFault fault) =>
        _clientTokenFaults.GetOrAdd(clientId, static _ => new ConcurrentQueue<EmulatorFault>()).Enqueue(fault);

    public void EnqueueApiFault(EmulatorFault fault) => _apiFaults.Enqueue(fault);

    /// <summary>Ends every pending latency and stall, so disposal never waits on them.</summary>
    public void Shutdown() => _shutdown.Cancel();

    /// <summary>Answers one request and records it, whether it is answered, dropped or cancelled.</summary>
    /// <exception cref="OperationCanceledException">The client cancelled, or the emulator shut down, during a delay.</exception>
    public async Task<GatewayResponse> ProcessAsync(EmulatorRequest request, CancellationToken cancellationToken)
    {
        GatewayResponse? response = null;
        try
        {
            response = await RouteAsync(request, cancellationToken).ConfigureAwait(false);
            return response;
        }
        finally
        {
            request.StatusCode = response?.StatusCode ?? 0;
            if (request.IsApiRequest && request.StatusCode == 401)
            {
                Recorder.CountUnauthorized();
            }

            Recorder.Record(request);
        }
    }

    private Task<GatewayResponse> RouteAsync(EmulatorRequest request, CancellationToken cancellationToken)
    {
        var path = request.Path;
        if (IsTokenPath(path))
        {
            return HandleTokenRequestAsync(request, cancellationToken);
        }

        if (path.StartsWith(ApiPrefix, StringComparison.Ordinal))
        {
            return HandleApiRequestAsync(request, cancellationToken);
        }

        return Task.FromResult(GatewayResponse.NotFound);
    }

    private static bool IsTokenPath(string path) =>
        MatchesWithOptionalSlash(path, TokenPath) || MatchesWithOptionalSlash(path, PasswordTokenPath);

    private static bool MatchesWithOptionalSlash(string path, string expected) =>
        path.StartsWith(expected, StringComparison.Ordinal)
        && (path.Length == expected.Length || (path.Length == expected.Length + 1 && path[^1] == '/'));

    private async Task<GatewayResponse> HandleTokenRequestAsync(EmulatorRequest request, CancellationToken cancellationToken)
    {
        Recorder.CountTokenRequest();
        request.IsTokenRequest = true;

        // Parse before any fault, so fault rules can look at the grant type or the client.
        var isForm = FormBody.IsForm(request.Headers.GetValueOrDefault("Content-Type"));
        string? repeatedField = null;
        if (isForm)
        {
            request.Form = EmulatorRequest.ReadOnly(FormBody.Parse(request.Body.Span, out repeatedField));
        }

        var basic = ReadBasicCredentials(request.Headers.GetValueOrDefault("Authorization"));
        request.ClientId = basic is { } b ? b.ClientId : NonEmpty(request.Form, "client_id");

        await DelayAsync(TokenLatency, cancellationToken).ConfigureAwait(false);
        var faultResponse = await ApplyFaultAsync(DequeueTokenFault(request.ClientId), _tokenFaultRule, request, cancellationToken).ConfigureAwait(false);
        if (faultResponse is not null)
        {
            return faultResponse;
        }

        if (!string.Equals(request.Method, "POST", StringComparison.Ordinal))
        {
            return MethodNotAllowed(request.Method, "POST");
        }

        if (!isForm)
        {
            var contentType = request.Headers.GetValueOrDefault("Content-Type");
            return BadRequest(contentType is null
                ? $"Missing Content-Type; the body must be {FormBody.MediaType}."
                : $"Unsupported media type \"{contentType}\" in request; the body must be {FormBody.MediaType}.");
        }

        if (repeatedField is not null)
        {
            return BadRequest($"Parameter {repeatedField} must not be sent more than once.");
        }

        var form = request.Form;
        foreach (var name in form.Keys)
        {
            if (!KnownTokenFields.Contains(name))
            {
                return BadRequest($"Unknown parameter: {name}.");
            }
        }

        var grantType = NonEmpty(form, "grant_type");
        if (grantType is null)
        {
            return MissingParameter("grant_type");
        }

        var isPasswordGrant = string.Equals(grantType, "password", StringComparison.Ordinal);
        if (!isPasswordGrant && !string.Equals(grantType, "client_credentials", StringComparison.Ordinal))
        {
            return BadRequest($"Unsupported grant type: {grantType}.");
        }

        if (basic is null && request.Headers.TryGetValue("Authorization", out var authorization) && IsBasic(authorization))
        {
            // A Basic header that does not decode to "id:secret" is a bad client, not a missing one.
            return GatewayResponse.InvalidClient;
        }

        var clientId = request.ClientId;
        var clientSecret = basic is { } credentials ? credentials.ClientSecret : NonEmpty(form, "client_secret");
        if (clientId is null)
        {
            return MissingParameter("client_id");
        }

        if (clientSecret is null)
        {
            return MissingParameter("client_secret");
        }

        string? username = null;
        if (isPasswordGrant)
        {
            username = NonEmpty(form, "username");
            if (username is null)
            {
                return MissingParameter("username");
            }

            if (NonEmpty(form, "password") is null)
            {
                return MissingParameter("password");
            }
        }

        // Numbered before the check, so a client or user removed after it passed still revokes this token.
        var sequence = Tokens.NextSequence();
        if (!Credentials.IsValidClient(clientId, clientSecret))
        {
            return GatewayResponse.InvalidClient;
        }

        if (username is not null && !Credentials.IsValidUser(username, form["password"], clientId))
        {
            return GatewayResponse.InvalidUserCredentials;
        }

        return IssueToken(request, clientId, username, form.GetValueOrDefault("scope") ?? string.Empty, sequence);
    }

    private GatewayResponse IssueToken(EmulatorRequest request, string clientId, string? username, string scope, long sequence)
    {
        var issuedAt = Now;
        var lifetime = TokenLifetime;
        var expiresAt = lifetime >= DateTimeOffset.MaxValue - issuedAt ? DateTimeOffset.MaxValue : issuedAt + lifetime;
        var token = username is null
            ? TokenStore.CreateOpaqueToken()
            : TokenStore.CreateJwtLikeToken(username, clientId, scope, issuedAt, expiresAt);
        Tokens.Add(token, new IssuedToken(clientId, username, expiresAt, sequence));
        request.Token = token;
        request.TokenClientId = clientId;
        request.TokenUsername = username;
        Recorder.RecordIssuedToken(token);
        var body = ResponseBodies.Token(_tokenFormat, token, issuedAt, (long)lifetime.TotalSeconds, scope);
        return GatewayResponse.Create(200, GatewayResponse.TokenContentType, body, TokenResponseHeaders);
    }

    private async Task<GatewayResponse> HandleApiRequestAsync(EmulatorRequest request, CancellationToken cancellationToken)
    {
        Recorder.CountApiRequest();
        request.IsApiRequest = true;

        // The scheme is compared case-sensitively, as the real gateway does: "bearer x" is refused.
        var authorization = request.Headers.GetValueOrDefault("Authorization");
        IssuedToken? issued = null;
        if (authorization is not null && authorization.StartsWith(BearerPrefix, StringComparison.Ordinal) && authorization.Length > BearerPrefix.Length)
        {
            // The owner is looked up before any fault, so a fault rule can pick out one agency's requests.
            request.Token = authorization[BearerPrefix.Length..];
            issued = Tokens.Find(request.Token);
            request.TokenClientId = issued?.ClientId;
            request.TokenUsername = issued?.Username;
        }

        var faultResponse = await ApplyFaultAsync(_apiFaults.TryDequeue(out var queued) ? queued : null, _apiFaultRule, request, cancellationToken)
            .ConfigureAwait(false);
        if (faultResponse is not null)
        {
            return faultResponse;
        }

        if (request.Token is null || _rejectAllTokens)
        {
            return GatewayResponse.InvalidAccessToken;
        }

        switch (Tokens.Check(issued, Now))
        {
            case TokenState.Unknown:
            case TokenState.Revoked:
                return GatewayResponse.InvalidAccessToken;
            case TokenState.Expired:
                return GatewayResponse.AccessTokenExpired;
        }

        return request.Path switch
        {
            "/v1/ping" => request.Method == "GET" ? GatewayResponse.PingOk : MethodNotAllowed(request.Method, "GET"),
            "/v1/echo" => request.Method is "GET" or "POST" or "PUT" ? Echo(request) : MethodNotAllowed(request.Method, "GET, POST, PUT"),
            _ => GatewayResponse.NotFound,
        };
    }

    private static GatewayResponse Echo(EmulatorRequest request)
    {
        var contentType = request.Headers.GetValueOrDefault("Content-Type");
        var body = request.Body.ToArray();
        return GatewayResponse.Create(200, body.Length == 0 && contentType is null ? null : contentType ?? "application/octet-stream", body);
    }

    /// <summary>Takes the next fault queued for the presented client, else the next queued for any client; null if none.</summary>
    private EmulatorFault? DequeueTokenFault(string? clientId)
    {
        if (clientId is not null && _clientTokenFaults.TryGetValue(clientId, out var own) && own.TryDequeue(out var fault))
        {
            return fault;
        }

        return _tokenFaults.TryDequeue(out fault) ? fault : null;
    }

    /// <summary>Answers the queued fault, or else the rule's; returns null to answer normally.</summary>
    private async Task<GatewayResponse?> ApplyFaultAsync(
        EmulatorFault? queued,
        Func<EmulatorRequest, EmulatorFault?>? rule,
        EmulatorRequest request,
        CancellationToken cancellationToken)
    {
        var fault = queued;
        if (fault is null)
        {
            try
            {
                fault = rule?.Invoke(request);
            }
            catch (Exception exception)
            {
                // Answered rather than thrown, so a broken rule reads the same through Kestrel and in memory.
                return GatewayResponse.Json(500, ResponseBodies.Detail($"The emulator's fault rule threw {exception.GetType().Name}: {exception.Message}"));
            }

            if (fault is null)
            {
                return null;
            }
        }

        await DelayAsync(fault.Latency, cancellationToken).ConfigureAwait(false);
        switch (fault.Kind)
        {
            case FaultKind.ConnectionReset:
                return GatewayResponse.Abort;
            case FaultKind.Stall:
                await DelayAsync(fault.Duration, cancellationToken).ConfigureAwait(false);
                return null;
            default:
                return fault.Response;
        }
    }

    /// <summary>Waits real time (latency is about wall-clock behaviour, not the emulator's clock), cancellably.</summary>
    private async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay == TimeSpan.Zero)
        {
            return;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        await Task.Delay(delay, linked.Token).ConfigureAwait(false);
    }

    private static (string ClientId, string ClientSecret)? ReadBasicCredentials(string? authorization)
    {
        if (authorization is null || !IsBasic(authorization))
        {
            return null;
        }

        // RFC 6749 section 2.3.1: Base64 of the form-encoded id, ':' and the form-encoded secret, decoded as an OAuth2
        // server does ('+' is a space). For the unreserved characters the gateway issues, the raw pair is the same bytes.
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[(BasicScheme.Length + 1)..].Trim()));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon <= 0 ? null : (FormDecode(decoded[..colon]), FormDecode(decoded[(colon + 1)..]));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string FormDecode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));

    private static bool IsBasic(string authorization) =>
        authorization.Length > BasicScheme.Length
        && authorization[BasicScheme.Length] == ' '
        && authorization.StartsWith(BasicScheme, StringComparison.OrdinalIgnoreCase);

    private static string? NonEmpty(IReadOnlyDictionary<string, string> form, string name) =>
        form.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    private static GatewayResponse BadRequest(string detail) => GatewayResponse.Json(400, ResponseBodies.Detail(detail));

    private static GatewayResponse MissingParameter(string name) => BadRequest($"Missing required parameter: {name}.");

    private static GatewayResponse MethodNotAllowed(string method, string allow) =>
        GatewayResponse.Json(405, ResponseBodies.Detail($"Method \"{method}\" not allowed."), [new("Allow", allow)]);
}
