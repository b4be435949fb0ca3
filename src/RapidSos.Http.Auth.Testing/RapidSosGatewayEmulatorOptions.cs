using Microsoft.Extensions.Logging;

namespace RapidSos.Http.Auth.Testing;

/// <summary>Settings of a <see cref="RapidSosGatewayEmulator"/>, read once when it is created.</summary>
/// <remarks>
/// Changing an instance after <see cref="RapidSosGatewayEmulator.StartAsync"/> or
/// <see cref="RapidSosGatewayEmulator.CreateInMemory"/> has no effect on that emulator; use the emulator's own
/// members (<see cref="RapidSosGatewayEmulator.AddClient"/>, <see cref="RapidSosGatewayEmulator.TokenLifetime"/>...)
/// to change it while it runs.
/// </remarks>
public sealed class RapidSosGatewayEmulatorOptions
{
    /// <summary>Gets or sets the client id of the client the emulator knows from the start; <see langword="null"/> for none.</summary>
    /// <value>The default is <c>emulator-client</c>.</value>
    public string? ClientId { get; set; } = "emulator-client";

    /// <summary>Gets or sets the secret of the <see cref="ClientId"/> client.</summary>
    /// <value>The default is <c>emulator-secret</c>.</value>
    public string? ClientSecret { get; set; } = "emulator-secret";

    /// <summary>Gets or sets the RapidSOS Portal user the password grant accepts from the start; <see langword="null"/> for none.</summary>
    /// <value>The default is <c>emulator-user</c>.</value>
    public string? Username { get; set; } = "emulator-user";

    /// <summary>Gets or sets the password of the <see cref="Username"/> user.</summary>
    /// <value>The default is <c>emulator-password</c>.</value>
    public string? Password { get; set; } = "emulator-password";

    /// <summary>Gets or sets the initial <see cref="RapidSosGatewayEmulator.TokenLifetime"/>.</summary>
    /// <value>The default is one hour, sent as <c>"expires_in":"3600"</c>.</value>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets the initial <see cref="RapidSosGatewayEmulator.TokenLatency"/>.</summary>
    /// <value>The default is <see cref="TimeSpan.Zero"/>.</value>
    public TimeSpan TokenLatency { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Gets or sets the clock behind <c>issued_at</c>, token expiry and <see cref="EmulatorRequest.Timestamp"/>.
    /// Give a <c>FakeTimeProvider</c> to expire tokens without waiting. Latency and stalls always take real time.
    /// </summary>
    /// <value>The default is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the <c>token_type</c> value of token responses.</summary>
    /// <value>The default is <c>BearerToken</c>, as the sandbox answers; the vendor's example shows <c>Bearer</c>.</value>
    public string TokenTypeValue { get; set; } = "BearerToken";

    /// <summary>Gets or sets a value indicating whether token responses name the token <c>acces_token</c>, as the vendor's example does.</summary>
    /// <value>The default is <see langword="false"/>: the field is <c>access_token</c>.</value>
    public bool MisspellAccessToken { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether <c>issued_at</c>, <c>expires_in</c> and <c>refresh_token_expires_in</c>
    /// are JSON strings, as the sandbox sends them, rather than JSON numbers.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool NumbersAsStrings { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether <c>issued_at</c> counts milliseconds, as the sandbox does, rather than seconds, since the UNIX epoch.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool IssuedAtInMilliseconds { get; set; } = true;

    /// <summary>
    /// Gets or sets how many requests <see cref="RapidSosGatewayEmulator.Requests"/> and how many tokens
    /// <see cref="RapidSosGatewayEmulator.IssuedTokens"/> keep, the most recent ones; the counters are exact whatever this is.
    /// Zero keeps none, for load tests.
    /// </summary>
    /// <value>The default is 10,000.</value>
    public int MaxRecordedRequests { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets the port of 127.0.0.1 that <see cref="RapidSosGatewayEmulator.StartAsync"/> listens on, for an emulator
    /// that other processes must find at a known address; zero lets the operating system pick a free port. The
    /// in-memory form ignores it.
    /// </summary>
    /// <value>The default is 0, a free port: tests running in parallel never collide.</value>
    /// <remarks>A port already in use makes <see cref="RapidSosGatewayEmulator.StartAsync"/> fail with an <see cref="IOException"/>.</remarks>
    public int Port { get; set; }

    /// <summary>Gets or sets the logger factory Kestrel logs to; <see langword="null"/> logs nothing.</summary>
    /// <value>The default is <see langword="null"/>. The emulator itself never logs, and never logs a request.</value>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Gets or sets the <see cref="RapidSosGatewayEmulator.BaseAddress"/> of an in-memory emulator; it must be absolute.
    /// The in-memory handler serves any scheme and host without TLS or DNS, so the address only has to satisfy the
    /// code under test: RapidSos.Http.Auth sends tokens over https, or plain http to a loopback host only.
    /// </summary>
    /// <value>
    /// The default is <c>https://rapidsos-emulator.local/</c>, which <c>RapidSosAuthOptions.BaseAddress</c> accepts as
    /// it is. Kestrel emulators use their loopback address, <c>http://127.0.0.1:port/</c>, instead.
    /// </value>
    public Uri InMemoryBaseAddress { get; set; } = new("https://rapidsos-emulator.local/");
}
