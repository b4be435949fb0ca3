using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging.Abstractions;
using RapidSos.Http.Auth.Testing.Internal;

namespace RapidSos.Http.Auth.Testing;

/// <summary>
/// An emulator of the RapidSOS API gateway for tests: the OAuth2 two-legged token endpoints, with the real gateway's
/// response shapes and quirks, and a sample API protected by the tokens it issues.
/// </summary>
/// <remarks>
/// <para>
/// Two forms share one request-processing core and so behave the same: <see cref="StartAsync"/> listens on a free
/// loopback port with Kestrel, for clients that must use real sockets; <see cref="CreateInMemory"/> opens no socket
/// and serves requests through <see cref="CreateHandler"/>. The in-memory handler also reproduces what
/// <see cref="SocketsHttpHandler"/> does to a request on its way to a socket: it reads the request content once,
/// without buffering it, so a content that cannot be sent twice fails the second time; it records the framing
/// headers the wire would carry; and it fails with the same exceptions as the Kestrel form for a reset connection,
/// a stopped emulator or a content whose length is wrong.
/// </para>
/// <para>Endpoints, relative to <see cref="BaseAddress"/>:</para>
/// <list type="bullet">
/// <item><description>
/// <c>POST oauth/token</c> and <c>POST oauth/v2/token</c> (a trailing slash is tolerated): form-urlencoded
/// <c>grant_type=client_credentials</c>, or <c>grant_type=password</c> with <c>username</c> and <c>password</c>, on
/// either endpoint; the client in <c>client_id</c>/<c>client_secret</c> fields or an HTTP Basic header; an optional
/// <c>scope</c>, echoed back.
/// </description></item>
/// <item><description>
/// <c>GET v1/ping</c> answers <c>{"status":"ok"}</c>; <c>GET|POST|PUT v1/echo</c> answers the request's body and
/// content type. Both need <c>Authorization: Bearer &lt;token&gt;</c> with a valid, unexpired token.
/// </description></item>
/// </list>
/// <para>
/// One emulator can play many agencies, as RapidSOS issues one client id and secret per agency: register each with
/// <see cref="AddClient"/>, its Portal users with <see cref="AddUser(string, string, string)"/>, and script each
/// agency's faults and revocations with <see cref="EnqueueFault(string, EmulatorFault)"/>,
/// <see cref="RevokeClientTokens"/> and <see cref="RemoveClient"/>. Every token remembers its client and user, so
/// <see cref="EmulatorRequest.TokenClientId"/> tells whose token an API request carried. Credentials and tokens are
/// held in dictionaries read without locks, so thousands of clients cost a look-up per request.
/// </para>
/// <para>
/// Every member is thread-safe, and every control takes effect for the requests that arrive after it is changed.
/// The emulator never logs, and keeps only a bounded record of requests, so it can serve load tests.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// await using var gateway = await RapidSosGatewayEmulator.StartAsync();
/// gateway.EnqueueFault(EmulatorFault.TooManyRequests(TimeSpan.FromSeconds(1)));
/// using var client = gateway.CreateClient();
/// // ... point the code under test at gateway.TokenEndpoint with "emulator-client" / "emulator-secret" ...
/// Assert.That(gateway.TokenRequestCount, Is.EqualTo(2));
/// </code>
/// </example>
public sealed class RapidSosGatewayEmulator : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan ShutdownGracePeriod = TimeSpan.FromSeconds(5);

    private readonly GatewayCore _core;
    private readonly KestrelServer? _server;
    private int _disposed;

    private RapidSosGatewayEmulator(GatewayCore core, KestrelServer? server, Uri baseAddress)
    {
        _core = core;
        _server = server;
        BaseAddress = baseAddress;
        TokenEndpoint = new Uri(baseAddress, "oauth/token");
        PasswordTokenEndpoint = new Uri(baseAddress, "oauth/v2/token");
    }

    /// <summary>
    /// Gets the root of the emulated gateway, with a trailing slash: <c>http://127.0.0.1:49152/</c> (some free port,
    /// or <see cref="RapidSosGatewayEmulatorOptions.Port"/>) for the Kestrel form, <see cref="RapidSosGatewayEmulatorOptions.InMemoryBaseAddress"/> (by default
    /// <c>https://rapidsos-emulator.local/</c>) for the in-memory form. Either is a valid <c>RapidSosAuthOptions.BaseAddress</c>.
    /// </summary>
    public Uri BaseAddress { get; }

    /// <summary>Gets the client-credentials token endpoint, <see cref="BaseAddress"/> + <c>oauth/token</c>.</summary>
    public Uri TokenEndpoint { get; }

    /// <summary>Gets the password-grant token endpoint, <see cref="BaseAddress"/> + <c>oauth/v2/token</c>.</summary>
    public Uri PasswordTokenEndpoint { get; }

    /// <summary>Gets a value indicating whether this emulator serves requests in memory rather than over a socket.</summary>
    public bool IsInMemory => _server is null;

    /// <summary>
    /// Gets or sets the lifetime of the tokens issued from now on, sent as <c>expires_in</c> in whole seconds (rounded
    /// down) and enforced exactly by the emulator's <see cref="TimeProvider"/>. Tokens already issued keep theirs.
    /// </summary>
    /// <value>The default is <see cref="RapidSosGatewayEmulatorOptions.TokenLifetime"/>, one hour unless set.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan TokenLifetime
    {
        get => _core.TokenLifetime;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _core.TokenLifetime = value;
        }
    }

    /// <summary>
    /// Gets or sets the real-time delay before every token request is answered (faults included). The client can
    /// cancel the request during the delay.
    /// </summary>
    /// <value>The default is <see cref="RapidSosGatewayEmulatorOptions.TokenLatency"/>, zero unless set.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public TimeSpan TokenLatency
    {
        get => _core.TokenLatency;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _core.TokenLatency = value;
        }
    }

    /// <summary>
    /// Gets or sets a function asked for a fault for each token request that finds the fault queues of
    /// <see cref="EnqueueFault(string, EmulatorFault)"/> and <see cref="EnqueueFault(EmulatorFault)"/> empty; it returns <see langword="null"/> to answer normally. It may run concurrently.
    /// The request it sees has its headers, body and form fields, but no answer yet. If the function throws, the
    /// request is answered 500 with the exception's type and message in a <c>detail</c> body.
    /// </summary>
    /// <value>The default is <see langword="null"/>: no rule.</value>
    public Func<EmulatorRequest, EmulatorFault?>? TokenFaultRule
    {
        get => _core.TokenFaultRule;
        set => _core.TokenFaultRule = value;
    }

    /// <summary>Gets or sets the counterpart of <see cref="TokenFaultRule"/> for requests to the protected API.</summary>
    /// <value>The default is <see langword="null"/>: no rule.</value>
    public Func<EmulatorRequest, EmulatorFault?>? ApiFaultRule
    {
        get => _core.ApiFaultRule;
        set => _core.ApiFaultRule = value;
    }

    /// <summary>
    /// Gets or sets a value indicating whether the protected API refuses every token, valid or not, with 401
    /// <c>Invalid Access Token</c>. Token requests are not affected.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool RejectAllTokens
    {
        get => _core.RejectAllTokens;
        set => _core.RejectAllTokens = value;
    }

    /// <summary>
    /// Gets the most recent requests (at most <see cref="RapidSosGatewayEmulatorOptions.MaxRecordedRequests"/>), oldest
    /// first, each complete with its answer's status code: a snapshot that later requests do not change.
    /// </summary>
    public IReadOnlyList<EmulatorRequest> Requests => _core.Recorder.Requests(tokenRequestsOnly: false);

    /// <summary>Gets the requests of <see cref="Requests"/> addressed to a token endpoint: a snapshot.</summary>
    public IReadOnlyList<EmulatorRequest> TokenRequests => _core.Recorder.Requests(tokenRequestsOnly: true);

    /// <summary>
    /// Gets the most recent tokens issued (at most <see cref="RapidSosGatewayEmulatorOptions.MaxRecordedRequests"/>),
    /// oldest first, including those since revoked or expired: a snapshot.
    /// </summary>
    public IReadOnlyList<string> IssuedTokens => _core.Recorder.IssuedTokens();

    /// <summary>Gets the exact number of requests to a token endpoint, answered or not, since the start or <see cref="ResetRecords"/>.</summary>
    public int TokenRequestCount => _core.Recorder.TokenRequestCount;

    /// <summary>Gets the exact number of token requests that were issued a token.</summary>
    public int SuccessfulTokenRequestCount => _core.Recorder.SuccessfulTokenRequestCount;

    /// <summary>Gets the exact number of requests to the protected API (paths under <c>/v1/</c>), answered or not.</summary>
    public int ApiRequestCount => _core.Recorder.ApiRequestCount;

    /// <summary>Gets the exact number of requests to the protected API answered 401, injected faults included.</summary>
    public int UnauthorizedCount => _core.Recorder.UnauthorizedCount;

    /// <summary>
    /// Starts an emulator listening with Kestrel on 127.0.0.1, on a free port or on
    /// <see cref="RapidSosGatewayEmulatorOptions.Port"/> when that is set.
    /// </summary>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running emulator; dispose it to stop listening.</returns>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    /// <exception cref="IOException">Kestrel could not bind a loopback port, for example because <see cref="RapidSosGatewayEmulatorOptions.Port"/> is in use.</exception>
    public static async Task<RapidSosGatewayEmulator> StartAsync(RapidSosGatewayEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RapidSosGatewayEmulatorOptions();
        Validate(options);
        var core = new GatewayCore(options);
        var (server, address) = await KestrelAdapter.StartAsync(core, options.Port, options.LoggerFactory ?? NullLoggerFactory.Instance, cancellationToken)
            .ConfigureAwait(false);
        return new RapidSosGatewayEmulator(core, server, address);
    }

    /// <summary>
    /// Creates an emulator that opens no socket: requests reach it only through <see cref="CreateHandler"/> or
    /// <see cref="CreateClient"/>, which accept any host name and serve the path.
    /// </summary>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <returns>The emulator, whose <see cref="BaseAddress"/> is <see cref="RapidSosGatewayEmulatorOptions.InMemoryBaseAddress"/>.</returns>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public static RapidSosGatewayEmulator CreateInMemory(RapidSosGatewayEmulatorOptions? options = null)
    {
        options ??= new RapidSosGatewayEmulatorOptions();
        Validate(options);
        var address = options.InMemoryBaseAddress;
        var baseAddress = address.AbsoluteUri.EndsWith('/') ? address : new Uri(address.AbsoluteUri + "/");
        return new RapidSosGatewayEmulator(new GatewayCore(options), null, baseAddress);
    }

    /// <summary>
    /// Creates a handler that reaches this emulator: for the in-memory form, one that serves requests in-process and
    /// fails as <see cref="SocketsHttpHandler"/> would (an <see cref="HttpRequestException"/> for a reset connection, a
    /// content sent twice or an emulator disposed since); for the Kestrel form, a plain <see cref="SocketsHttpHandler"/>
    /// without proxy, cookies or redirects. The caller owns and disposes it.
    /// </summary>
    /// <returns>A new handler.</returns>
    /// <exception cref="ObjectDisposedException">The emulator is disposed.</exception>
    public HttpMessageHandler CreateHandler()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _server is null
            ? new InMemoryHandler(_core)
            : new SocketsHttpHandler { UseProxy = false, UseCookies = false, AllowAutoRedirect = false };
    }

    /// <summary>Creates an <see cref="HttpClient"/> over <see cref="CreateHandler"/> with <see cref="HttpClient.BaseAddress"/> set to <see cref="BaseAddress"/>.</summary>
    /// <returns>A new client, which disposes its handler; the caller owns it.</returns>
    /// <exception cref="ObjectDisposedException">The emulator is disposed.</exception>
    public HttpClient CreateClient() => new(CreateHandler(), disposeHandler: true) { BaseAddress = BaseAddress };

    /// <summary>
    /// Adds a client the token endpoints accept, or gives a known client a new secret (the old one stops working).
    /// Tokens already issued to the client stay valid, as on the gateway after a secret rotation; see
    /// <see cref="RevokeClientTokens"/>.
    /// </summary>
    /// <param name="clientId">The client id, compared case-sensitively.</param>
    /// <param name="clientSecret">The client secret, compared case-sensitively after form or Basic decoding.</param>
    /// <exception cref="ArgumentException"><paramref name="clientId"/> is null or empty, or <paramref name="clientSecret"/> is null.</exception>
    public void AddClient(string clientId, string clientSecret)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ArgumentNullException.ThrowIfNull(clientSecret);
        _core.Credentials.SetClient(clientId, clientSecret);
    }

    /// <summary>
    /// Removes a client, as when an agency's secret is revoked in the RapidSOS Portal: its token requests are answered
    /// 401 <c>invalid_client</c>, and every token issued to it so far, password-grant tokens included, is revoked.
    /// Adding the client again issues new tokens; the revoked ones stay revoked. Its users and queued faults are kept.
    /// </summary>
    /// <param name="clientId">The client id.</param>
    /// <returns><see langword="true"/> if the client was known; <see langword="false"/> if not (its tokens, if any, are revoked all the same).</returns>
    /// <exception cref="ArgumentException"><paramref name="clientId"/> is null or empty.</exception>
    public bool RemoveClient(string clientId)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        var removed = _core.Credentials.RemoveClient(clientId);

        // After the removal, so a request that passed the secret check just before it is covered too.
        _core.Tokens.RevokeClient(clientId);
        return removed;
    }

    /// <summary>
    /// Adds a RapidSOS Portal user the password grant accepts through any client, or replaces a known user's password
    /// and lifts any restriction to one client.
    /// </summary>
    /// <param name="username">The username, compared case-sensitively.</param>
    /// <param name="password">The password.</param>
    /// <exception cref="ArgumentException"><paramref name="username"/> is null or empty, or <paramref name="password"/> is null.</exception>
    public void AddUser(string username, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        ArgumentNullException.ThrowIfNull(password);
        _core.Credentials.SetUser(username, password, clientId: null);
    }

    /// <summary>
    /// Adds a RapidSOS Portal user of one agency: the password grant accepts the user only with that client's id and
    /// secret, and answers 400 <c>Invalid user credentials.</c> through any other client. Replaces a known user's
    /// password and client. The client need not be added yet.
    /// </summary>
    /// <param name="clientId">The client id of the user's agency.</param>
    /// <param name="username">The username, compared case-sensitively; a user belongs to one client at most.</param>
    /// <param name="password">The password.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="clientId"/> or <paramref name="username"/> is null or empty, or <paramref name="password"/> is null.
    /// </exception>
    public void AddUser(string clientId, string username, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ArgumentException.ThrowIfNullOrEmpty(username);
        ArgumentNullException.ThrowIfNull(password);
        _core.Credentials.SetUser(username, password, clientId);
    }

    /// <summary>
    /// Removes a RapidSOS Portal user: the password grant answers 400 <c>Invalid user credentials.</c> for them, and
    /// every token issued to them so far is revoked. Adding the user again issues new tokens.
    /// </summary>
    /// <param name="username">The username.</param>
    /// <returns><see langword="true"/> if the user was known; <see langword="false"/> if not (their tokens, if any, are revoked all the same).</returns>
    /// <exception cref="ArgumentException"><paramref name="username"/> is null or empty.</exception>
    public bool RemoveUser(string username)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        var removed = _core.Credentials.RemoveUser(username);
        _core.Tokens.RevokeUser(username);
        return removed;
    }

    /// <summary>
    /// Queues a fault to answer one upcoming token request in place of the normal answer, whatever its client. Queued
    /// faults are used first in, first out, one per request, after those queued for the request's client with
    /// <see cref="EnqueueFault(string, EmulatorFault)"/> and before <see cref="TokenFaultRule"/> is asked.
    /// </summary>
    /// <param name="fault">The fault.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fault"/> is <see langword="null"/>.</exception>
    public void EnqueueFault(EmulatorFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        _core.EnqueueTokenFault(fault);
    }

    /// <summary>
    /// Queues a fault to answer the next token request that presents this client id (in the form or a Basic header),
    /// whatever its secret, in place of the normal answer; requests of other clients are not affected. Faults queued
    /// for a client are used first in, first out, before those of <see cref="EnqueueFault(EmulatorFault)"/>.
    /// </summary>
    /// <param name="clientId">The client id, compared case-sensitively; it need not be added.</param>
    /// <param name="fault">The fault.</param>
    /// <exception cref="ArgumentException"><paramref name="clientId"/> is null or empty.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="fault"/> is <see langword="null"/>.</exception>
    public void EnqueueFault(string clientId, EmulatorFault fault)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ArgumentNullException.ThrowIfNull(fault);
        _core.EnqueueTokenFault(clientId, fault);
    }

    /// <summary>
    /// Queues a fault to answer one upcoming request to the protected API, before its token is checked; first in,
    /// first out, before <see cref="ApiFaultRule"/> is asked.
    /// </summary>
    /// <param name="fault">The fault.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fault"/> is <see langword="null"/>.</exception>
    public void EnqueueApiFault(EmulatorFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        _core.EnqueueApiFault(fault);
    }

    /// <summary>Invalidates every token issued so far: the API answers 401 <c>Invalid Access Token</c> to them. Later tokens work.</summary>
    public void RevokeAllTokens() => _core.Tokens.RevokeAll();

    /// <summary>
    /// Invalidates every token issued so far to one client, by either grant: the API answers 401
    /// <c>Invalid Access Token</c> to them. Other clients' tokens, and the client's later tokens, work.
    /// </summary>
    /// <param name="clientId">The client id.</param>
    /// <exception cref="ArgumentException"><paramref name="clientId"/> is null or empty.</exception>
    public void RevokeClientTokens(string clientId)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        _core.Tokens.RevokeClient(clientId);
    }

    /// <summary>
    /// Invalidates every password-grant token issued so far to one RapidSOS Portal user, through any client: the API
    /// answers 401 <c>Invalid Access Token</c> to them. Other tokens, and the user's later tokens, work.
    /// </summary>
    /// <param name="username">The username.</param>
    /// <exception cref="ArgumentException"><paramref name="username"/> is null or empty.</exception>
    public void RevokeUserTokens(string username)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        _core.Tokens.RevokeUser(username);
    }

    /// <summary>Invalidates one token: the API answers 401 <c>Invalid Access Token</c> to it.</summary>
    /// <param name="token">The access token.</param>
    /// <returns><see langword="true"/> if the token was known and is now revoked; <see langword="false"/> if it was unknown or already revoked.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="token"/> is <see langword="null"/>.</exception>
    public bool RevokeToken(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _core.Tokens.Revoke(token);
    }

    /// <summary>
    /// Clears <see cref="Requests"/> and <see cref="IssuedTokens"/> and zeroes the counters. Issued tokens stay valid,
    /// and queued faults, rules and credentials are kept.
    /// </summary>
    public void ResetRecords() => _core.Recorder.Reset();

    /// <summary>
    /// Stops the emulator: requests waiting in a latency or stall fail as on a reset connection, and later requests fail
    /// as on a refused one (<see cref="HttpRequestException"/> with <see cref="HttpRequestError.ConnectionError"/>), in
    /// both forms; the Kestrel form stops listening.
    /// </summary>
    /// <returns>A task that completes when the emulator has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _core.Shutdown();
        if (_server is not null)
        {
            using var grace = new CancellationTokenSource(ShutdownGracePeriod);
            try
            {
                await _server.StopAsync(grace.Token).ConfigureAwait(false);
            }
            finally
            {
                _server.Dispose();
            }
        }
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Returns the form and address of the emulator, for test output.</summary>
    /// <returns>A short description.</returns>
    public override string ToString() => $"RapidSOS gateway emulator ({(IsInMemory ? "in memory" : "Kestrel")}) at {BaseAddress}";

    private static void Validate(RapidSosGatewayEmulatorOptions options)
    {
        const string Prefix = nameof(RapidSosGatewayEmulatorOptions) + ".";
        if (options.TokenLifetime < TimeSpan.Zero)
        {
            throw new ArgumentException($"{Prefix}{nameof(options.TokenLifetime)} must not be negative.", nameof(options));
        }

        if (options.TokenLatency < TimeSpan.Zero)
        {
            throw new ArgumentException($"{Prefix}{nameof(options.TokenLatency)} must not be negative.", nameof(options));
        }

        if (options.MaxRecordedRequests < 0)
        {
            throw new ArgumentException($"{Prefix}{nameof(options.MaxRecordedRequests)} must not be negative.", nameof(options));
        }

        if (options.Port is < IPEndPoint.MinPort or > IPEndPoint.MaxPort)
        {
            throw new ArgumentException(
                $"{Prefix}{nameof(options.Port)} must be between {IPEndPoint.MinPort} and {IPEndPoint.MaxPort} (0 for a free port), not {options.Port}.", nameof(options));
        }

        if (options.TimeProvider is null)
        {
            throw new ArgumentException($"{Prefix}{nameof(options.TimeProvider)} is required.", nameof(options));
        }

        if (options.TokenTypeValue is null)
        {
            throw new ArgumentException($"{Prefix}{nameof(options.TokenTypeValue)} is required.", nameof(options));
        }

        if (options.InMemoryBaseAddress is null || !options.InMemoryBaseAddress.IsAbsoluteUri)
        {
            throw new ArgumentException($"{Prefix}{nameof(options.InMemoryBaseAddress)} must be an absolute URI.", nameof(options));
        }

        if (options.ClientId is { Length: 0 } || options.Username is { Length: 0 })
        {
            throw new ArgumentException($"{Prefix}{nameof(options.ClientId)} and {nameof(options.Username)} must be null or non-empty.", nameof(options));
        }
    }
}
