using BenchmarkDotNet.Attributes;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks.HotPath;

/// <summary><see cref="ITokenProvider.GetTokenAsync"/> alone, with a cached token: the goal is no allocation.</summary>
[MemoryDiagnoser]
public class TokenProviderBenchmarks
{
    private RapidSosGatewayEmulator? _gateway;
    private AuthPipeline? _pipeline;
    private ITokenProvider _tokens = null!;

    [GlobalSetup]
    public void Setup()
    {
        _gateway = RapidSosGatewayEmulator.CreateInMemory();
        _pipeline = AuthPipeline.Create(_gateway);
        _pipeline.WarmAsync().GetAwaiter().GetResult();
        _tokens = _pipeline.Tokens;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pipeline?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _gateway?.Dispose();
    }

    [Benchmark]
    public AccessToken GetTokenAsync()
    {
        var token = _tokens.GetTokenAsync();
        return token.IsCompletedSuccessfully ? token.Result : token.AsTask().GetAwaiter().GetResult();
    }
}
