using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RapidSos.Http.Auth.FleetHost;
using RapidSos.Http.Auth.Tests.Shared.Fleet;

// One instance of a fleet: its own container, its own Redis connection (AddRapidSosRedisTokenCache) or none, and
// --workers loops calling the gateway's API through AddRapidSosBearerToken. See FleetHostOptions.Usage for the
// command line and FleetProtocol for the lines it reads and writes.
FleetHostOptions options;
try
{
    options = FleetHostOptions.Parse(args);
}
catch (FormatException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(FleetHostOptions.Usage);
    return 2;
}

const string ApiClient = "fleet-api";

// Listening before anything is built, so no measurement of the library is missed.
using var meters = new FleetMeters();

var services = new ServiceCollection();
services.AddLogging(logging => logging
    .SetMinimumLevel(options.LogLevel)
    .AddProvider(new StderrLoggerProvider(options.LogLevel, options.Name)));
services.AddRapidSosAuthentication(o =>
{
    o.BaseAddress = options.Gateway;
    o.ClientId = options.ClientId;
    o.ClientSecret = options.ClientSecret;
});
if (options.Redis is { } redis)
{
    services.AddRapidSosRedisTokenCache(o =>
    {
        o.Configuration = redis;
        if (options.RedisTimeout is { } timeout)
        {
            o.OperationTimeout = timeout;
        }
    });
}

services.AddHttpClient(ApiClient, client =>
    {
        client.BaseAddress = options.Gateway;
        client.Timeout = TimeSpan.FromSeconds(30);
    })
    .AddRapidSosBearerToken();

await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

// Started as a host starts them: the Redis cache connects here, before the instance serves anything.
foreach (var hosted in provider.GetServices<Microsoft.Extensions.Hosting.IHostedService>())
{
    await hosted.StartAsync(CancellationToken.None);
}

var load = new FleetLoad(provider.GetRequiredService<IHttpClientFactory>().CreateClient(ApiClient), options.Path, options.Pace, meters, options.Name);

// Not disposed: the stdin thread may still cancel it while the process exits.
var stop = new CancellationTokenSource();
var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
var stdin = new Thread(() =>
{
    while (Console.ReadLine() is { } line)
    {
        switch (line.Trim())
        {
            case FleetProtocol.Go:
                go.TrySetResult();
                break;
            case FleetProtocol.Snapshot:
                PrintSnapshot();
                break;
            case FleetProtocol.Stop:
                stop.Cancel();
                go.TrySetResult();
                return;
        }
    }

    // The end of stdin: the driver is gone, so is the reason to run.
    stop.Cancel();
    go.TrySetResult();
})
{ IsBackground = true, Name = "stdin" };
stdin.Start();

Console.WriteLine(FleetProtocol.Ready);
if (options.WaitForGo)
{
    await go.Task;
}

if (!stop.IsCancellationRequested)
{
    if (options.Duration is { } duration)
    {
        stop.CancelAfter(duration);
    }

    _ = load.FirstSuccess.ContinueWith(_ => Console.WriteLine(FleetProtocol.FirstSuccess), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    var reports = options.ReportInterval > TimeSpan.Zero ? ReportAsync(options.ReportInterval, stop.Token) : Task.CompletedTask;
    await load.RunAsync(options.Workers, stop.Token);
    await reports;
}

Console.WriteLine(FleetProtocol.SummaryPrefix + JsonSerializer.Serialize(load.Report(final: true), FleetJsonContext.Default.FleetInstanceReport));
return 0;

void PrintSnapshot() =>
    Console.WriteLine(FleetProtocol.SnapshotPrefix + JsonSerializer.Serialize(load.Report(final: false), FleetJsonContext.Default.FleetInstanceReport));

async Task ReportAsync(TimeSpan interval, CancellationToken cancellationToken)
{
    using var timer = new PeriodicTimer(interval);
    try
    {
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            PrintSnapshot();
        }
    }
    catch (OperationCanceledException)
    {
    }
}
