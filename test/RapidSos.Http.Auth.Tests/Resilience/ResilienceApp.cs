using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Time.Testing;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Tests.Resilience;

/// <summary>
/// An application wired with Microsoft.Extensions.Http.Resilience's standard handler in one of the orders users
/// choose, against the gateway emulator on real Kestrel. The library, the emulator and the resilience pipelines all
/// run on one <see cref="FakeTimeProvider"/> (Polly takes the container's <see cref="TimeProvider"/>), so the
/// pipeline's 2 s retry delays, 10 s attempt and 30 s total timeouts meet the library's backoff windows exactly as
/// they would in production, without the test waiting for them. The clock moves only while no request is on the
/// wire, so a slow machine cannot make a request look slow to the pipeline.
/// </summary>
internal sealed class ResilienceApp : IAsyncDisposable
{
    /// <summary>How far the test clock moves each time the test finds nothing on the wire.</summary>
    private static readonly TimeSpan s_step = TimeSpan.FromMilliseconds(100);

    private ServiceProvider _services = null!;

    private ResilienceApp()
    {
    }

    public RapidSosGatewayEmulator Gateway { get; private set; } = null!;

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));

    /// <summary>Counts the pipeline's calls into the bearer handler.</summary>
    public RequestCounter Attempts { get; } = new();

    /// <summary>Counts the requests on the wire, API and token requests alike (innermost on both clients).</summary>
    public RequestCounter Wire { get; } = new();

    public IServiceProvider Services => _services;

    public HttpClient Api => _services.GetRequiredService<IHttpClientFactory>().CreateClient("api");

    public static async Task<ResilienceApp> StartAsync(
        ResilienceOrder order,
        Action<HttpStandardResilienceOptions>? pipeline,
        string? clientSecret = null,
        Action<IServiceCollection>? services = null,
        Action<IHttpClientBuilder>? tokenClient = null)
    {
        var app = new ResilienceApp();
        var gatewayOptions = new RapidSosGatewayEmulatorOptions { TimeProvider = app.Time };
        app.Gateway = await RapidSosGatewayEmulator.StartAsync(gatewayOptions);

        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddSingleton<TimeProvider>(app.Time);
        if (order == ResilienceOrder.ClientDefaults)
        {
            // First, as AddServiceDefaults() is in an Aspire app.
            collection.ConfigureHttpClientDefaults(h => AddStandard(h, pipeline));
        }

        collection.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = app.Gateway.BaseAddress;
            o.ClientId = gatewayOptions.ClientId;
            o.ClientSecret = clientSecret ?? gatewayOptions.ClientSecret;
        });

        // The back channel's own configuration, then innermost on it a passive counter, both configured for its name,
        // which the library keeps whatever it does with defaults.
        var back = collection.AddHttpClient(RapidSosAuthDefaults.TokenClientName);
        tokenClient?.Invoke(back);
        back.AddHttpMessageHandler(() => new CountingHandler(app.Wire));

        var api = collection.AddHttpClient("api");
        switch (order)
        {
            case ResilienceOrder.BearerFirst:
                api.AddHttpMessageHandler(() => new CountingHandler(app.Attempts)).AddRapidSosBearerToken();
                AddStandard(api, pipeline);
                break;
            case ResilienceOrder.ResilienceFirst:
                AddStandard(api, pipeline);
                api.AddHttpMessageHandler(() => new CountingHandler(app.Attempts)).AddRapidSosBearerToken();
                break;
            default:
                api.AddHttpMessageHandler(() => new CountingHandler(app.Attempts)).AddRapidSosBearerToken();
                break;
        }

        api.AddHttpMessageHandler(() => new CountingHandler(app.Wire));
        collection.AddHealthChecks().AddRapidSosTokenCheck();
        services?.Invoke(collection);
        app._services = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        return app;
    }

    /// <summary>
    /// Runs <paramref name="call"/> and moves the test clock while it is pending and nothing is on the wire, so
    /// every delay and timeout on the clock (the pipeline's and the library's) falls due in its turn.
    /// </summary>
    public async Task<MatrixRun> RunAsync(Func<Task<string>> call)
    {
        var tokens = Gateway.TokenRequestCount;
        var api = Gateway.ApiRequestCount;
        var attempts = Attempts.Calls;
        var started = Time.GetUtcNow();

        var task = Task.Run(call);
        await DriveAsync(task, "the call to complete");

        Exception? error = null;
        string? result = null;
        try
        {
            result = await task;
        }
        catch (Exception ex)
        {
            error = ex;
        }

        return new MatrixRun(
            Gateway.TokenRequestCount - tokens,
            Gateway.ApiRequestCount - api,
            Attempts.Calls - attempts,
            error,
            result,
            Time.GetUtcNow() - started);
    }

    /// <summary>One API call, <c>GET v1/ping</c>: its status code.</summary>
    public Task<MatrixRun> CallApiAsync() => RunAsync(async () =>
    {
        using var response = await Api.GetAsync(new Uri("v1/ping", UriKind.Relative));
        return ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
    });

    public async ValueTask DisposeAsync()
    {
        // A token request can still be waiting on the clock (a back-channel retry after the caller timed out), and
        // Polly's pipelines wait for their executions when disposed, on the same clock: keep it moving.
        await DriveAsync(_services.DisposeAsync().AsTask(), "the container to dispose");
        await Gateway.DisposeAsync();
    }

    /// <summary>Moves the test clock whenever nothing is on the wire, until <paramref name="task"/> completes.</summary>
    private Task DriveAsync(Task task, string what) =>
        Poll.UntilAsync(
            () =>
            {
                if (task.IsCompleted)
                {
                    return true;
                }

                if (Wire.InFlight == 0)
                {
                    Time.Advance(s_step);
                }

                return false;
            },
            what,
            TimeSpan.FromMinutes(2));

    private static void AddStandard(IHttpClientBuilder builder, Action<HttpStandardResilienceOptions>? pipeline)
    {
        if (pipeline is null)
        {
            builder.AddStandardResilienceHandler();
        }
        else
        {
            builder.AddStandardResilienceHandler(pipeline);
        }
    }
}
