namespace RapidSos.Http.Auth.Emulator;

/// <summary>
/// The emulator's process, minus the signals: reads the command line, starts the <see cref="EmulatorHost"/>, prints
/// where it listens, and runs until cancelled. Tests call <see cref="RunAsync"/> in-process.
/// </summary>
internal static class EmulatorCommand
{
    /// <summary>The exit code of a command line that cannot run, as command-line tools use it.</summary>
    public const int UsageExitCode = 2;

    /// <summary>The exit code when the emulator could not start, a port in use for example.</summary>
    public const int StartFailedExitCode = 1;

    private static readonly HashSet<string> HelpSwitches = new(StringComparer.Ordinal) { "--help", "-h", "-?" };

    /// <summary>Runs the emulator until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="output">Where the addresses and the help go.</param>
    /// <param name="error">Where errors go.</param>
    /// <param name="cancellationToken">Stops the emulator: Ctrl+C or SIGTERM in the process, the test in tests.</param>
    /// <returns>0 after a stop, <see cref="UsageExitCode"/> for a bad command line, <see cref="StartFailedExitCode"/> if it could not start.</returns>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (args.Any(HelpSwitches.Contains))
        {
            await output.WriteLineAsync(CommandLine.Usage).ConfigureAwait(false);
            return 0;
        }

        EmulatorSettings settings;
        try
        {
            settings = CommandLine.Parse(args);
        }
        catch (UsageException usage)
        {
            await error.WriteLineAsync($"error: {usage.Message}").ConfigureAwait(false);
            await error.WriteLineAsync("Run with --help to see the options.").ConfigureAwait(false);
            return UsageExitCode;
        }

        EmulatorHost host;
        try
        {
            host = await EmulatorHost.StartAsync(settings, cancellationToken).ConfigureAwait(false);
        }
        catch (EmulatorStartException failed)
        {
            await error.WriteLineAsync($"error: {failed.Message}").ConfigureAwait(false);
            return StartFailedExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }

        await using (host.ConfigureAwait(false))
        {
            await output.WriteAsync(Banner(settings, host)).ConfigureAwait(false);
            await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C, SIGTERM or the test: the normal way to stop.
            }

            await output.WriteLineAsync("Stopping.").ConfigureAwait(false);
        }

        await output.WriteLineAsync("Stopped.").ConfigureAwait(false);
        await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        return 0;
    }

    /// <summary>What the emulator prints on start: its addresses and whom it accepts, by id and name only, never a secret.</summary>
    internal static string Banner(EmulatorSettings settings, EmulatorHost host)
    {
        var emulator = host.Emulator;
        var clients = string.Join(", ", settings.EffectiveClients.Select(c => c.ClientId));
        var users = settings.EffectiveUsers.Count == 0 ? "(none)" : string.Join(", ", settings.EffectiveUsers.Select(u => u.ToString()));
        var defaults = settings.UsesDefaultCredentials ? "  (the Testing package's defaults: secret and password in its README)" : string.Empty;
        var quirks = new List<string> { $"token_type {settings.TokenTypeValue}" };
        if (settings.MisspellAccessToken)
        {
            quirks.Add("acces_token (misspelt)");
        }

        quirks.Add(settings.NumbersAsStrings ? "numbers as strings" : "numbers as numbers");
        quirks.Add(settings.IssuedAtInMilliseconds ? "issued_at in ms" : "issued_at in s");
        var reject = settings.RejectAllTokens ? Environment.NewLine + "  The API refuses every token (--reject-all-tokens): POST /_emulator/reject?enabled=false to stop." : string.Empty;
        return $"""
            RapidSOS gateway emulator, for development and tests only: never give it real RapidSOS credentials.
              Gateway:          {emulator.BaseAddress}   (the app's RapidSos:BaseAddress)
              Token endpoints:  {emulator.TokenEndpoint}   (client credentials)
                                {emulator.PasswordTokenEndpoint}   (password grant)
              Protected API:    {new Uri(emulator.BaseAddress, "v1/ping")}   (and v1/echo)
              Control API:      {host.ControlAddress}   (development only; GET it for the list of endpoints)
              Clients:          {clients}{defaults}
              Users:            {users}
              Tokens:           lifetime {Durations.Format(emulator.TokenLifetime)}, latency {Durations.Format(emulator.TokenLatency)}; {string.Join(", ", quirks)}{reject}
            Listening on 127.0.0.1 only. Stop with Ctrl+C or SIGTERM.

            """;
    }
}
