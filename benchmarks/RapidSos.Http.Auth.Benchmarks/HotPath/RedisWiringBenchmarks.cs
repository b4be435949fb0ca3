using System.Net.Http.Headers;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks.HotPath;

/// <summary>
/// The hot path with the fleet's Redis cache registered (<c>AddRapidSosRedisTokenCache</c> against a real
/// redis-server) against the same container without it: a named client with <c>AddRapidSosBearerToken</c>, wired
/// as <see cref="CredentialWiringBenchmarks"/> wires it, a GET with <c>Accept: application/json</c>, a warm token
/// cache, one request at a time. The cache is consulted once per token lifetime, never per request, so the two arms
/// should be the same within noise and +0 B.
/// </summary>
[MemoryDiagnoser]
public class RedisWiringBenchmarks
{
    /// <summary>Sends per invocation.</summary>
    public const int Ops = AppWiringBenchmarks.Ops;

    private const string Client = "bench-handler";

    private RedisServer? _redis;
    private RapidSosGatewayEmulator? _gateway;
    private AuthPipeline? _without;
    private AuthPipeline? _with;
    private CannedTerminal _terminal = null!;
    private HttpMessageInvoker _withoutRedis = null!;
    private HttpMessageInvoker _withRedis = null!;
    private HttpRequestMessage _withoutRequest = null!;
    private HttpRequestMessage _withRequest = null!;

    [Params(TerminalCompletion.Synchronous, TerminalCompletion.Yield)]
    public TerminalCompletion Terminal { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _terminal = new CannedTerminal(Terminal);
        _redis = RedisServer.StartAsync().GetAwaiter().GetResult();
        _gateway = RapidSosGatewayEmulator.CreateInMemory();
        _without = Create(redis: null);
        _with = Create(_redis.Configuration);

        // Warm both: the arm with Redis takes its token through the shared store, once.
        _without.WarmAsync().GetAwaiter().GetResult();
        _with.WarmAsync().GetAwaiter().GetResult();

        _withoutRedis = new HttpMessageInvoker(_without.Services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(Client), disposeHandler: false);
        _withRedis = new HttpMessageInvoker(_with.Services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(Client), disposeHandler: false);
        _withoutRequest = NewRequest(_without);
        _withRequest = NewRequest(_with);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _withoutRequest.Dispose();
        _withRequest.Dispose();
        _without?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _with?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _terminal.Dispose();
        _gateway?.Dispose();
        _redis?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public Task WithoutRedis() => DriveAsync(_withoutRedis, _withoutRequest);

    [Benchmark(OperationsPerInvoke = Ops)]
    public Task WithRedis() => DriveAsync(_withRedis, _withRequest);

    private AuthPipeline Create(string? redis) => AuthPipeline.Create(_gateway!, services =>
    {
        services.AddLogging(b => b.ClearProviders());
        if (redis is not null)
        {
            services.AddRapidSosRedisTokenCache(o => o.Configuration = redis);
        }

        services.AddHttpClient(Client)
            .RemoveAllLoggers()
            .AddRapidSosBearerToken()
            .ConfigurePrimaryHttpMessageHandler(() => _terminal);
    });

    private static HttpRequestMessage NewRequest(AuthPipeline pipeline)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(pipeline.BaseAddress, "v1/ping"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    private static async Task DriveAsync(HttpMessageInvoker invoker, HttpRequestMessage request)
    {
        for (var i = 0; i < Ops; i++)
        {
            _ = await invoker.SendAsync(request, CancellationToken.None).ConfigureAwait(false);
            request.Headers.Authorization = null;
        }
    }
}
