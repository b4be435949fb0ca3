using System.Net.Http.Headers;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Benchmarks.HotPath;

/// <summary>
/// The hot path with run-time credentials, wired as <see cref="AppWiringBenchmarks"/> wires it with
/// <see cref="Wiring.Factory"/>: named clients of one container (<c>AddRapidSosBearerToken</c>, loggers removed, the
/// terminal as primary handler), a GET with <c>Accept: application/json</c>, a warm token cache, one request at a
/// time. Three arms: the static registration's own credentials (the baseline), the same registration with a reused
/// <see cref="RapidSosCredential"/> on the request (<c>WithRapidSosCredential</c>, set once on the reused request),
/// and a registration whose <see cref="IRapidSosCredentialResolver"/> returns a kept instance synchronously.
/// </summary>
/// <remarks>
/// As in <see cref="AppWiringBenchmarks"/>, each arm sends its one request over and over and clears its
/// <c>Authorization</c> header after each send; the credential stays in the request's options, as it would on a
/// request an application builds with it. Once a request has carried a credential, the library makes every request
/// of the process look for one (a process-wide switch): the baseline here pays that look-up, which the
/// <see cref="AppWiringBenchmarks"/> handler arm, run in a process that has seen no credential, does not.
/// </remarks>
[MemoryDiagnoser]
public class CredentialWiringBenchmarks
{
    /// <summary>Sends per invocation.</summary>
    public const int Ops = AppWiringBenchmarks.Ops;

    private const string ResolvedRegistration = "bench-resolved";
    private const string StaticClient = "bench-static";
    private const string CredentialClient = "bench-request-credential";
    private const string ResolverClient = "bench-resolver";
    private const string AgencyId = "agency-on-request";
    private const string AgencySecret = "agency-on-request-secret";

    private RapidSosGatewayEmulator? _gateway;
    private AuthPipeline? _pipeline;
    private CannedTerminal _terminal = null!;
    private HttpMessageInvoker _static = null!;
    private HttpMessageInvoker _requestCredential = null!;
    private HttpMessageInvoker _resolver = null!;
    private HttpRequestMessage _staticRequest = null!;
    private HttpRequestMessage _credentialRequest = null!;
    private HttpRequestMessage _resolverRequest = null!;

    [Params(TerminalCompletion.Synchronous, TerminalCompletion.Yield)]
    public TerminalCompletion Terminal { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _terminal = new CannedTerminal(Terminal);
        _gateway = RapidSosGatewayEmulator.CreateInMemory();
        _gateway.AddClient(AgencyId, AgencySecret);
        _gateway.AddClient(FixedCredentialResolver.ClientId, FixedCredentialResolver.ClientSecret);

        _pipeline = AuthPipeline.Create(_gateway, services =>
        {
            services.AddLogging(b => b.ClearProviders());
            services.AddRapidSosAuthentication(ResolvedRegistration, o => o.BaseAddress = _gateway.BaseAddress);
            services.AddRapidSosCredentialResolver<FixedCredentialResolver>(ResolvedRegistration);
            services.AddHttpClient(StaticClient)
                .RemoveAllLoggers()
                .AddRapidSosBearerToken()
                .ConfigurePrimaryHttpMessageHandler(() => _terminal);
            services.AddHttpClient(CredentialClient)
                .RemoveAllLoggers()
                .AddRapidSosBearerToken()
                .ConfigurePrimaryHttpMessageHandler(() => _terminal);
            services.AddHttpClient(ResolverClient)
                .RemoveAllLoggers()
                .AddRapidSosBearerToken(ResolvedRegistration)
                .ConfigurePrimaryHttpMessageHandler(() => _terminal);
        });

        // Warm every cache the arms read: the registration's own token, the request credential's, the resolver's.
        var credential = new RapidSosCredential(AgencyId, AgencySecret);
        var resolver = (FixedCredentialResolver)_pipeline.Services.GetRequiredKeyedService<IRapidSosCredentialResolver>(ResolvedRegistration);
        _pipeline.WarmAsync().GetAwaiter().GetResult();
        _pipeline.Services.GetRequiredService<IRapidSosTokenCache>().GetTokenAsync(credential).AsTask().GetAwaiter().GetResult();
        _pipeline.Services.GetRequiredKeyedService<IRapidSosTokenCache>(ResolvedRegistration).GetTokenAsync(resolver.Credential).AsTask().GetAwaiter().GetResult();

        var factory = _pipeline.Services.GetRequiredService<IHttpMessageHandlerFactory>();
        _static = new HttpMessageInvoker(factory.CreateHandler(StaticClient), disposeHandler: false);
        _requestCredential = new HttpMessageInvoker(factory.CreateHandler(CredentialClient), disposeHandler: false);
        _resolver = new HttpMessageInvoker(factory.CreateHandler(ResolverClient), disposeHandler: false);

        _staticRequest = NewRequest();
        _credentialRequest = NewRequest().WithRapidSosCredential(credential);
        _resolverRequest = NewRequest();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _staticRequest.Dispose();
        _credentialRequest.Dispose();
        _resolverRequest.Dispose();
        _pipeline?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _terminal.Dispose();
        _gateway?.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public Task StaticRegistration() => DriveAsync(_static, _staticRequest);

    [Benchmark(OperationsPerInvoke = Ops)]
    public Task RequestCredential() => DriveAsync(_requestCredential, _credentialRequest);

    [Benchmark(OperationsPerInvoke = Ops)]
    public Task Resolver() => DriveAsync(_resolver, _resolverRequest);

    private HttpRequestMessage NewRequest()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_pipeline!.BaseAddress, "v1/ping"));
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
