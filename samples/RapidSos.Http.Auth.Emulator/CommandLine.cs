using System.Globalization;
using System.Net;

namespace RapidSos.Http.Auth.Emulator;

/// <summary>
/// Reads the emulator's command line: <c>--name value</c> or <c>--name=value</c>, switches without a value, nothing
/// positional. Every error names the argument; the values of <c>--client</c> and <c>--user</c>, which hold secrets,
/// are never repeated in one.
/// </summary>
internal static class CommandLine
{
    public const string Usage = """
        RapidSOS gateway emulator, for development and tests only: the OAuth2 token endpoints and a protected sample
        API on 127.0.0.1, with a control API to revoke tokens, inject faults and read counters.

        usage: RapidSos.Http.Auth.Emulator [options]

          --port <port>               the gateway's port on 127.0.0.1 (default 5080; 0 picks a free port)
          --control-port <port>       the control API's port on 127.0.0.1 (default: --port + 1, or a free port with --port 0)
          --client <id:secret>        a client the token endpoints accept (repeatable); the secret is everything after
                                      the first ':'
          --user <clientId:username:password>
                                      a RapidSOS Portal user the password grant accepts through that client (repeatable;
                                      an empty clientId, ':username:password', accepts the user through any client)
          --token-lifetime <duration> the lifetime of issued tokens, sent as expires_in (default 1h)
          --token-latency <duration>  a delay before every token response (default 0)
          --token-type <value>        the token_type of token responses (default BearerToken)
          --misspell-access-token     name the token 'acces_token', as the vendor's example does
          --numbers-as-numbers        send issued_at and expires_in as JSON numbers, not strings as the sandbox does
          --issued-at-seconds         send issued_at in seconds, not milliseconds as the sandbox does
          --reject-all-tokens         start with the API refusing every token (the control API turns it off)
          -h, --help                  show this help

          A duration is 250ms, 90s, 2m, 1h or plain seconds (90, 1.5).
          With no --client and no --user, the emulator accepts the Testing package's default client, emulator-client,
          and user, emulator-user (through any client); their secret and password are in the Testing package's README.
          Secrets are never printed. The command line is visible to other local users: give it throwaway values only.

        The control API (http://127.0.0.1:<control-port>/_emulator/): GET / lists its endpoints; POST revoke, reject,
        faults, api-faults, reset, clients, users; GET counters, settings; DELETE clients/{id}, users/{name}.
        Stop with Ctrl+C or SIGTERM.
        """;

    private static readonly HashSet<string> Switches = new(StringComparer.Ordinal)
    {
        "--misspell-access-token", "--numbers-as-numbers", "--issued-at-seconds", "--reject-all-tokens", "--help", "-h", "-?",
    };

    private static readonly HashSet<string> ValueOptions = new(StringComparer.Ordinal)
    {
        "--port", "--control-port", "--client", "--user", "--token-lifetime", "--token-latency", "--token-type",
    };

    /// <summary>Reads <paramref name="args"/>.</summary>
    /// <exception cref="UsageException">An argument is unknown, repeated, missing its value or has a bad one.</exception>
    public static EmulatorSettings Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var settings = new EmulatorSettings();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var (name, inlineValue) = Split(arg);
            if (Switches.Contains(name))
            {
                if (inlineValue is not null)
                {
                    throw new UsageException($"{name} takes no value.");
                }

                ApplySwitch(settings, name);
                continue;
            }

            if (!ValueOptions.Contains(name))
            {
                throw new UsageException(name.StartsWith('-')
                    ? $"Unknown option '{name}'."
                    : $"Unexpected argument '{arg}': every argument is an option such as --port 5080.");
            }

            string value;
            if (inlineValue is not null)
            {
                value = inlineValue;
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                throw new UsageException($"{name} needs a value.");
            }

            if (name is not ("--client" or "--user") && !seen.Add(name))
            {
                throw new UsageException($"{name} is given more than once.");
            }

            ApplyValue(settings, name, value);
        }

        Check(settings);
        return settings;
    }

    private static (string Name, string? Value) Split(string arg)
    {
        var equals = arg.IndexOf('=', StringComparison.Ordinal);
        return arg.StartsWith("--", StringComparison.Ordinal) && equals > 2 ? (arg[..equals], arg[(equals + 1)..]) : (arg, null);
    }

    private static void ApplySwitch(EmulatorSettings settings, string name)
    {
        switch (name)
        {
            case "--misspell-access-token": settings.MisspellAccessToken = true; break;
            case "--numbers-as-numbers": settings.NumbersAsStrings = false; break;
            case "--issued-at-seconds": settings.IssuedAtInMilliseconds = false; break;
            case "--reject-all-tokens": settings.RejectAllTokens = true; break;
            default: settings.ShowHelp = true; break;
        }
    }

    private static void ApplyValue(EmulatorSettings settings, string name, string value)
    {
        switch (name)
        {
            case "--port": settings.Port = ParsePort(name, value); break;
            case "--control-port": settings.ControlPort = ParsePort(name, value); break;
            case "--client": settings.Clients.Add(ParseClient(settings, value)); break;
            case "--user": settings.Users.Add(ParseUser(settings, value)); break;
            case "--token-lifetime": settings.TokenLifetime = ParseDuration(name, value); break;
            case "--token-latency":
                settings.TokenLatency = ParseDuration(name, value);
                if (settings.TokenLatency > ControlApi.MaxDelay)
                {
                    throw new UsageException($"--token-latency must be at most {Durations.Format(ControlApi.MaxDelay)}, not '{value}'.");
                }

                break;
            default:
                if (value.Length == 0 || value.Any(char.IsControl))
                {
                    throw new UsageException("--token-type must be a non-empty value without control characters.");
                }

                settings.TokenTypeValue = value;
                break;
        }
    }

    private static int ParsePort(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= IPEndPoint.MaxPort
            ? port
            : throw new UsageException($"{name} must be a port number from 0 to {IPEndPoint.MaxPort}, not '{value}'.");

    private static TimeSpan ParseDuration(string name, string value) =>
        Durations.TryParse(value, out var duration)
            ? duration
            : throw new UsageException($"{name} must be {Durations.Syntax}, not '{value}'.");

    private static ClientCredentials ParseClient(EmulatorSettings settings, string value)
    {
        // The value is never quoted back: it holds the secret, and a malformed one may be a secret pasted alone.
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            throw new UsageException($"--client #{settings.Clients.Count + 1} must be id:secret (its value is not shown, as it may hold a secret).");
        }

        var clientId = value[..colon];
        var secret = value[(colon + 1)..];
        if (clientId.Length == 0 || secret.Length == 0)
        {
            throw new UsageException($"--client #{settings.Clients.Count + 1} must be id:secret with neither part empty (its value is not shown, as it may hold a secret).");
        }

        CheckName("--client", "client id", clientId);
        if (settings.Clients.Any(c => c.ClientId == clientId))
        {
            throw new UsageException($"--client '{clientId}' is given more than once.");
        }

        return new ClientCredentials(clientId, secret);
    }

    private static UserCredentials ParseUser(EmulatorSettings settings, string value)
    {
        var parts = value.Split(':', 3);
        if (parts.Length != 3 || parts[1].Length == 0 || parts[2].Length == 0)
        {
            throw new UsageException($"--user #{settings.Users.Count + 1} must be clientId:username:password, or :username:password for any client, with a username and a password (its value is not shown, as it may hold a password).");
        }

        CheckName("--user", "username", parts[1]);
        if (settings.Users.Any(u => u.Username == parts[1]))
        {
            throw new UsageException($"--user '{parts[1]}' is given more than once.");
        }

        return new UserCredentials(parts[0].Length == 0 ? null : parts[0], parts[1], parts[2]);
    }

    private static void CheckName(string option, string what, string name)
    {
        if (name.Any(char.IsControl))
        {
            throw new UsageException($"{option}: the {what} must not contain control characters.");
        }
    }

    private static void Check(EmulatorSettings settings)
    {
        foreach (var user in settings.Users)
        {
            if (user.ClientId is { } clientId && !settings.Clients.Any(c => c.ClientId == clientId))
            {
                throw new UsageException($"--user '{user.Username}' names client '{clientId}', which no --client gives.");
            }
        }

        if (settings.Port != 0 && settings.EffectiveControlPort == settings.Port)
        {
            throw new UsageException($"--control-port must differ from --port ({settings.Port}).");
        }
    }
}
