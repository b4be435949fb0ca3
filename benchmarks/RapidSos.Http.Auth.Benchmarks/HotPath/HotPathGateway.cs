using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks.HotPath;

internal static class HotPathGateway
{
    /// <summary>
    /// An in-memory emulator on an https origin (the library sends tokens over plain http only to loopback hosts),
    /// used only to issue the token the hot-path benchmarks reuse.
    /// </summary>
    public static RapidSosGatewayEmulator Create() =>
        RapidSosGatewayEmulator.CreateInMemory(new RapidSosGatewayEmulatorOptions { InMemoryBaseAddress = new Uri("https://rapidsos-emulator.local/") });
}
