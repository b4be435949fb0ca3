namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

internal static class Loopback
{
    /// <summary>The client settings of every arm that talks to the Kestrel emulator: one definition, so arms differ only by the handler.</summary>
    public static SocketsHttpHandler CreateSocketsHandler(int maxConnectionsPerServer) => new()
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        MaxConnectionsPerServer = maxConnectionsPerServer,
        PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
    };
}
