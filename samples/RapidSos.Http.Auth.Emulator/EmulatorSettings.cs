using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Emulator;

/// <summary>What the command line asked for; <see cref="CommandLine.Parse"/> builds it, <see cref="EmulatorHost"/> runs it.</summary>
internal sealed class EmulatorSettings
{
    /// <summary>The Testing package's default client, registered when no <c>--client</c> and no <c>--user</c> is given.</summary>
    public static readonly ClientCredentials DefaultClient = new("emulator-client", "emulator-secret");

    /// <summary>The Testing package's default user (any client), registered with <see cref="DefaultClient"/>.</summary>
    public static readonly UserCredentials DefaultUser = new(null, "emulator-user", "emulator-password");

    /// <summary>Gets or sets the gateway's port of 127.0.0.1; 0 for a free one.</summary>
    public int Port { get; set; } = 5080;

    /// <summary>Gets or sets the control API's port of 127.0.0.1; 0 for a free one, null for <see cref="Port"/> + 1 (or a free one when <see cref="Port"/> is 0).</summary>
    public int? ControlPort { get; set; }

    public List<ClientCredentials> Clients { get; } = [];

    public List<UserCredentials> Users { get; } = [];

    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan TokenLatency { get; set; } = TimeSpan.Zero;

    public string TokenTypeValue { get; set; } = "BearerToken";

    public bool MisspellAccessToken { get; set; }

    public bool NumbersAsStrings { get; set; } = true;

    public bool IssuedAtInMilliseconds { get; set; } = true;

    public bool RejectAllTokens { get; set; }

    /// <summary>Gets or sets a value indicating whether <c>--help</c> was asked for; nothing else then counts.</summary>
    public bool ShowHelp { get; set; }

    /// <summary>Gets a value indicating whether the defaults apply: no <c>--client</c> and no <c>--user</c>.</summary>
    public bool UsesDefaultCredentials => Clients.Count == 0 && Users.Count == 0;

    /// <summary>Gets the clients to register: those given, or <see cref="DefaultClient"/>.</summary>
    public IReadOnlyList<ClientCredentials> EffectiveClients => UsesDefaultCredentials ? [DefaultClient] : Clients;

    /// <summary>Gets the users to register: those given, or <see cref="DefaultUser"/>.</summary>
    public IReadOnlyList<UserCredentials> EffectiveUsers => UsesDefaultCredentials ? [DefaultUser] : Users;

    /// <summary>Gets the control port to ask for: <see cref="ControlPort"/> if given, else the one after <see cref="Port"/>.</summary>
    public int EffectiveControlPort => ControlPort ?? (Port is 0 or 65535 ? 0 : Port + 1);

    /// <summary>The emulator's options: no default client or user (the host registers <see cref="EffectiveClients"/> itself), and no request record.</summary>
    public RapidSosGatewayEmulatorOptions ToEmulatorOptions() => new()
    {
        Port = Port,
        ClientId = null,
        ClientSecret = null,
        Username = null,
        Password = null,
        TokenLifetime = TokenLifetime,
        TokenLatency = TokenLatency,
        TokenTypeValue = TokenTypeValue,
        MisspellAccessToken = MisspellAccessToken,
        NumbersAsStrings = NumbersAsStrings,
        IssuedAtInMilliseconds = IssuedAtInMilliseconds,

        // Nothing reads the request record in a long-running process (the control API returns counters, which stay
        // exact, and never a request, whose form holds secrets), so none is kept: memory stays flat.
        MaxRecordedRequests = 0,
    };
}
