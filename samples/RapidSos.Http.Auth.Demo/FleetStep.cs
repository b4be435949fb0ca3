using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Demo;

/// <summary>
/// Step 9: three instances of a service share one token through Redis. Runs only when a <c>redis-server</c> is on
/// the PATH (the demo starts its own, on a free port, with nothing persisted); otherwise it says how to see it.
/// </summary>
internal static class FleetStep
{
    public static async Task<(string Observed, bool Passed)?> RunAsync(RapidSosGatewayEmulator gateway, string clientId, string secret)
    {
        if (FindRedisServer() is not { } executable)
        {
            Out.Info("skipped: no redis-server on the PATH. Install one (e.g. apt-get install redis-server) and run the demo again to see three instances share one token.");
            return null;
        }

        var port = FreePort();
        var directory = Directory.CreateTempSubdirectory("rapidsos-demo-redis-");
        using var redis = Process.Start(new ProcessStartInfo(executable)
        {
            ArgumentList = { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.FullName },
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        try
        {
            await WaitForPortAsync(port);
            var before = gateway.TokenRequestCount;
            var instances = Enumerable.Range(0, 3).Select(_ => Instance(gateway, clientId, secret, $"127.0.0.1:{port}")).ToList();
            try
            {
                // All three start at once, cold, with 10 calls each.
                var statuses = await Task.WhenAll(instances.SelectMany(i => Enumerable.Range(0, 10).Select(_ => i.GetRequiredService<EmergencyDataClient>().PingAsync())));
                var requests = gateway.TokenRequestCount - before;
                Out.Info($"3 instances x 10 calls, cold: {statuses.Count(s => s == HttpStatusCode.OK)}/30 OK with {requests} token request for the fleet (without Redis: 3)");
                return ($"{statuses.Count(s => s == HttpStatusCode.OK)}/30 OK, {requests} token request", statuses.All(s => s == HttpStatusCode.OK) && requests == 1);
            }
            finally
            {
                foreach (var instance in instances)
                {
                    await instance.DisposeAsync();
                }
            }
        }
        finally
        {
            redis.Kill();
            await redis.WaitForExitAsync();
            directory.Delete(recursive: true);
        }
    }

    private static ServiceProvider Instance(RapidSosGatewayEmulator gateway, string clientId, string secret, string redis)
    {
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = gateway.BaseAddress;
            o.ClientId = clientId;
            o.ClientSecret = secret;
        });
        services.AddRapidSosRedisTokenCache(o => o.Configuration = redis);
        services.AddHttpClient<EmergencyDataClient>(c => c.BaseAddress = gateway.BaseAddress).AddHttpMessageHandler<BearerTokenHandler>();
        return services.BuildServiceProvider();
    }

    private static string? FindRedisServer() =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "redis-server"))
            .FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitForPortAsync(int port)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(20);
            }
        }
    }
}
