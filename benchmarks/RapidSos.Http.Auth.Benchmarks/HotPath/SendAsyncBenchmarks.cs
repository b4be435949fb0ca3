using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks.HotPath;

/// <summary>
/// The per-request cost of authentication with a cached token: <c>HttpMessageInvoker.SendAsync</c> straight to a
/// canned 200 (no handler), through <see cref="FloorHandler"/> (the limit), and through
/// <see cref="Auth.BearerTokenHandler"/> resolved from DI with a warm cache.
/// </summary>
/// <remarks>
/// Every arm sends the same <see cref="HttpRequestMessage"/> (legal with <see cref="HttpMessageInvoker"/>, which,
/// unlike <see cref="HttpClient"/>, does not mark a request as sent) and clears its <c>Authorization</c> header
/// afterwards, so each operation sets the header anew on a request without one, as on a fresh request: the header
/// is part of the cost. The in-memory emulator only issues the token, during setup.
/// </remarks>
[MemoryDiagnoser]
public class SendAsyncBenchmarks
{
    private RapidSosGatewayEmulator? _gateway;
    private AuthPipeline? _pipeline;
    private CannedTerminal _terminal = null!;
    private HttpMessageInvoker _noHandler = null!;
    private HttpMessageInvoker _floor = null!;
    private HttpMessageInvoker _bearerTokenHandler = null!;
    private HttpRequestMessage _request = null!;

    [Params(TerminalCompletion.Synchronous, TerminalCompletion.Asynchronous)]
    public TerminalCompletion Terminal { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _gateway = RapidSosGatewayEmulator.CreateInMemory();
        _pipeline = AuthPipeline.Create(_gateway);
        var token = _pipeline.WarmAsync().GetAwaiter().GetResult();

        _terminal = new CannedTerminal(Terminal);
        _noHandler = new HttpMessageInvoker(_terminal, disposeHandler: false);
        _floor = new HttpMessageInvoker(new FloorHandler(new AuthenticationHeaderValue("Bearer", token.Value), _terminal), disposeHandler: false);
        _bearerTokenHandler = new HttpMessageInvoker(_pipeline.CreateHandler(_terminal), disposeHandler: false);
        _request = new HttpRequestMessage(HttpMethod.Get, new Uri(_pipeline.BaseAddress, "v1/ping"));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _request.Dispose();
        _bearerTokenHandler.Dispose();
        _floor.Dispose();
        _noHandler.Dispose();
        _terminal.Dispose();
        _pipeline?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _gateway?.Dispose();
    }

    [Benchmark(Baseline = true)]
    public HttpResponseMessage NoHandler() => Send(_noHandler);

    [Benchmark]
    public HttpResponseMessage Floor() => Send(_floor);

    [Benchmark]
    public HttpResponseMessage BearerTokenHandler() => Send(_bearerTokenHandler);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private HttpResponseMessage Send(HttpMessageInvoker invoker)
    {
        var responseTask = invoker.SendAsync(_request, CancellationToken.None);
        _terminal.CompletePending();
        var response = responseTask.GetAwaiter().GetResult();
        _request.Headers.Authorization = null;
        return response;
    }
}
