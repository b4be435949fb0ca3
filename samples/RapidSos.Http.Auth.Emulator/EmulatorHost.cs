using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Emulator;

/// <summary>
/// A running emulator and its control API, started from <see cref="EmulatorSettings"/>: what
/// <see cref="EmulatorCommand.RunAsync"/> runs, and what tests start in-process.
/// </summary>
internal sealed class EmulatorHost : IAsyncDisposable
{
    private readonly ControlServer _control;

    private EmulatorHost(RapidSosGatewayEmulator emulator, ControlServer control)
    {
        Emulator = emulator;
        _control = control;
    }

    public RapidSosGatewayEmulator Emulator { get; }

    /// <summary>Gets the gateway's root, <c>http://127.0.0.1:port/</c>: the app's <c>RapidSos:BaseAddress</c>.</summary>
    public Uri GatewayAddress => Emulator.BaseAddress;

    /// <summary>Gets the control API's root, <c>http://127.0.0.1:port/_emulator/</c>.</summary>
    public Uri ControlAddress => _control.Address;

    /// <summary>Starts the gateway, registers the clients and users, then starts the control API.</summary>
    /// <exception cref="EmulatorStartException">A port could not be bound; the message names the option.</exception>
    public static async Task<EmulatorHost> StartAsync(EmulatorSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        RapidSosGatewayEmulator emulator;
        try
        {
            emulator = await RapidSosGatewayEmulator.StartAsync(settings.ToEmulatorOptions(), cancellationToken).ConfigureAwait(false);
        }
        catch (IOException bind)
        {
            throw new EmulatorStartException("--port", settings.Port, bind);
        }

        try
        {
            foreach (var client in settings.EffectiveClients)
            {
                emulator.AddClient(client.ClientId, client.ClientSecret);
            }

            foreach (var user in settings.EffectiveUsers)
            {
                if (user.ClientId is null)
                {
                    emulator.AddUser(user.Username, user.Password);
                }
                else
                {
                    emulator.AddUser(user.ClientId, user.Username, user.Password);
                }
            }

            emulator.RejectAllTokens = settings.RejectAllTokens;
            var api = new ControlApi(emulator, settings.EffectiveClients.Select(c => c.ClientId), settings.EffectiveUsers.Select(u => u.Username));
            var controlPort = settings.EffectiveControlPort;
            ControlServer control;
            try
            {
                control = await ControlServer.StartAsync(api, controlPort, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException bind)
            {
                throw new EmulatorStartException(settings.ControlPort is null ? "--control-port (by default --port + 1)" : "--control-port", controlPort, bind);
            }

            return new EmulatorHost(emulator, control);
        }
        catch
        {
            await emulator.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the control API, then the gateway.</summary>
    public async ValueTask DisposeAsync()
    {
        await _control.DisposeAsync().ConfigureAwait(false);
        await Emulator.DisposeAsync().ConfigureAwait(false);
    }
}
