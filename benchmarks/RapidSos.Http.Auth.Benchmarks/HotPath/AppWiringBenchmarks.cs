using System.Net.Http.Headers;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks.HotPath;

/// <summary>How the handler chain under test is built.</summary>
public enum Wiring
{
    /// <summary>By hand, as <see cref="SendAsyncBenchmarks"/> does: <c>handler.InnerHandler = terminal</c>.</summary>
    Hand,

    /// <summary>
    /// The way an application wires it: named clients in a service collection
    /// (<c>AddHttpClient(name).AddHttpMessageHandler&lt;BearerTokenHandler&gt;()</c>, loggers removed, the terminal as
    /// primary handler) and the chain from <c>IHttpMessageHandlerFactory.CreateHandler(name)</c>.
    /// </summary>
    Factory,
}

/// <summary>
/// The hot path measured the way an application wires the handler, next to the same arms built by hand: no
/// handler, the floor (<see cref="FloorHandler"/>) and <see cref="Auth.BearerTokenHandler"/>, each a GET with
/// <c>Accept: application/json</c> and a warm token cache, on one thread at a time. With
/// <see cref="Wiring.Factory"/> the three arms are three named clients of one container, so each goes through
/// the same factory chain (<c>LifetimeTrackingHttpMessageHandler</c>, no logging handlers) and "handler minus
/// floor" compares like with like.
/// </summary>
/// <remarks>
/// Each invocation awaits <see cref="Ops"/> sends in a loop. With <see cref="TerminalCompletion.Synchronous"/> the
/// loop never yields; with <see cref="TerminalCompletion.Yield"/> the first send moves the loop onto a thread-pool
/// thread, where every later <c>Task.Yield</c> is queued locally and picked up by the same thread: one thread hop
/// per invocation, not per operation, and every layer's continuation runs as it would over a socket. The loop's own
/// state machine (one per invocation) is the same in every arm. Time is wall-clock: the work runs on the pool.
/// </remarks>
[MemoryDiagnoser]
public class AppWiringBenchmarks
{
    /// <summary>Sends per invocation.</summary>
    public const int Ops = 256;

    private const string NoHandlerClient = "bench-no-handler";
    private const string FloorClient = "bench-floor";
    private const string HandlerClient = "bench-bearer-token-handler";

    private RapidSosGatewayEmulator? _gateway;
    private AuthPipeline? _pipeline;
    private CannedTerminal _terminal = null!;
    private HttpMessageInvoker _noHandler = null!;
    private HttpMessageInvoker _floor = null!;
    private HttpMessageInvoker _bearerTokenHandler = null!;
    private HttpRequestMessage _request = null!;

    [Params(Wiring.Hand, Wiring.Factory)]
    public Wiring Wiring { get; set; }

    [Params(TerminalCompletion.Synchronous, TerminalCompletion.Yield)]
    public TerminalCompletion Terminal { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _terminal = new CannedTerminal(Terminal);
        _gateway = RapidSosGatewayEmulator.CreateInMemory();

        // The floor's header is built from the token the cache will serve, once the cache is warm.
        AuthenticationHeaderValue? floorHeader = null;
        _pipeline = AuthPipeline.Create(_gateway, services =>
        {
            services.AddLogging(b => b.ClearProviders());
            services.AddHttpClient(NoHandlerClient)
                .RemoveAllLoggers()
                .ConfigurePrimaryHttpMessageHandler(() => _terminal);
            services.AddHttpClient(FloorClient)
                .RemoveAllLoggers()
                .AddHttpMessageHandler(() => new FloorHandler(floorHeader!))
                .ConfigurePrimaryHttpMessageHandler(() => _terminal);
            services.AddHttpClient(HandlerClient)
                .RemoveAllLoggers()
                .AddHttpMessageHandler<BearerTokenHandler>()
                .ConfigurePrimaryHttpMessageHandler(() => _terminal);
        });
        var token = _pipeline.WarmAsync().GetAwaiter().GetResult();
        floorHeader = new AuthenticationHeaderValue("Bearer", token.Value);

        if (Wiring == Wiring.Factory)
        {
            var factory = _pipeline.Services.GetRequiredService<IHttpMessageHandlerFactory>();
            _noHandler = new HttpMessageInvoker(factory.CreateHandler(NoHandlerClient), disposeHandler: false);
            _floor = new HttpMessageInvoker(factory.CreateHandler(FloorClient), disposeHandler: false);
            _bearerTokenHandler = new HttpMessageInvoker(factory.CreateHandler(HandlerClient), disposeHandler: false);
        }
        else
        {
            _noHandler = new HttpMessageInvoker(_terminal, disposeHandler: false);
            _floor = new HttpMessageInvoker(new FloorHandler(floorHeader, _terminal), disposeHandler: false);
            _bearerTokenHandler = new HttpMessageInvoker(_pipeline.CreateHandler(_terminal), disposeHandler: false);
        }

        _request = new HttpRequestMessage(HttpMethod.Get, new Uri(_pipeline.BaseAddress, "v1/ping"));
        _request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _request.Dispose();
        _pipeline?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _terminal.Dispose();
        _gateway?.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public Task NoHandler() => DriveAsync(_noHandler);

    [Benchmark(OperationsPerInvoke = Ops)]
    public Task Floor() => DriveAsync(_floor);

    [Benchmark(OperationsPerInvoke = Ops)]
    public Task BearerTokenHandler() => DriveAsync(_bearerTokenHandler);

    private async Task DriveAsync(HttpMessageInvoker invoker)
    {
        var request = _request;
        for (var i = 0; i < Ops; i++)
        {
            _ = await invoker.SendAsync(request, CancellationToken.None).ConfigureAwait(false);
            request.Headers.Authorization = null;
        }
    }
}
