using System.Collections;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using RapidSos.Http.Auth.Testing;
using RapidSos.Http.Auth.Tests.Helpers;
using RapidSos.Http.Auth.Tests.Integration;

namespace RapidSos.Http.Auth.Tests.Probes;

/// <summary>What the edge probes (issue 10's promises, attacked from outside) share: sinks to search, contents, handlers.</summary>
internal static class EdgeProbeKit
{
    /// <summary>Every place a secret could surface: the exception (message and ToString), every log message, exception and structured value, telemetry.</summary>
    public static string Sinks(Exception? thrown, FakeLogCollector logs, TelemetryCapture? telemetry = null) =>
        string.Join("\n",
            thrown?.ToString() ?? string.Empty,
            string.Join("\n", logs.GetSnapshot().Select(r =>
                $"{r.Message} {r.Exception} {string.Join(";", r.StructuredState?.Select(kv => $"{kv.Key}={kv.Value}") ?? [])}")),
            telemetry?.Text ?? string.Empty);

    public static async Task<Exception> FailureOf(Func<Task> action)
    {
        try
        {
            await action().WaitAsync(Probe.Bound);
        }
        catch (Exception ex)
        {
            return ex;
        }

        Assert.Fail("expected the call to fail");
        throw new UnreachableException();
    }

    public static async Task<Exception?> FailureOrNull(Func<Task> action)
    {
        try
        {
            await action().WaitAsync(Probe.Bound);
            return null;
        }
        catch (Exception ex) when (ex is not TimeoutException)
        {
            return ex;
        }
    }

    /// <summary>The emulator on Kestrel with the application wired to it, a token already cached.</summary>
    public static async Task<GatewayFixture> FixtureAsync()
    {
        var f = await GatewayFixture.StartAsync();
        (await f.Api.GetAsync("v1/ping")).Dispose();
        return f;
    }

    /// <summary>Revokes the cached token, then posts <paramref name="content"/>: a 401, a new token, the resend.</summary>
    public static async Task<(EmulatorRequest[] Sends, HttpStatusCode Status)> PostThroughA401Async(GatewayFixture f, HttpContent content, bool synchronous)
    {
        f.Gateway.RevokeAllTokens();
        f.Gateway.ResetRecords();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/echo") { Content = content };
        using var response = synchronous ? f.Api.Send(request) : await f.Api.SendAsync(request);
        return ([.. f.Gateway.Requests.Where(r => r.IsApiRequest)], response.StatusCode);
    }

    public static string[] ContentHeaders(EmulatorRequest request) =>
        [.. request.Headers
            .Where(h => h.Key.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) || h.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            .OrderBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .Select(h => $"{h.Key}: {h.Value}")];

    /// <summary>Runs one scenario against one form of the emulator and describes its outcome (no token, no port in it).</summary>
    public static async Task<string> RunEmulatorScenarioAsync(string scenario, bool kestrel)
    {
        await using var gateway = kestrel ? await RapidSosGatewayEmulator.StartAsync() : RapidSosGatewayEmulator.CreateInMemory();
        using var invoker = new HttpMessageInvoker(gateway.CreateHandler());
        var payload = Encoding.UTF8.GetBytes("read me once");

        async Task<string> Send(HttpRequestMessage request)
        {
            try
            {
                using var response = await invoker.SendAsync(request, CancellationToken.None);
                return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception ex)
            {
                return $"{ex.GetType().Name}: {ex.Message} <- {ex.InnerException?.GetType().Name}";
            }
        }

        async Task<string> TokenAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.BaseAddress, "oauth/token"))
            {
                Content = new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("client_id", "emulator-client"), new("client_secret", "emulator-secret")]),
            };
            using var response = await invoker.SendAsync(request, CancellationToken.None);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;
        }

        switch (scenario)
        {
            case "ResendReadOnceStreamThroughHandler":
            {
                var services = new ServiceCollection();
                services.AddRapidSosAuthentication(o => { o.BaseAddress = gateway.BaseAddress; o.ClientId = "emulator-client"; o.ClientSecret = "emulator-secret"; });
                services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).ConfigurePrimaryHttpMessageHandler(gateway.CreateHandler);
                services.AddHttpClient("api").AddRapidSosBearerToken().ConfigurePrimaryHttpMessageHandler(gateway.CreateHandler);
                await using var provider = services.BuildServiceProvider();
                var api = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");
                (await api.GetAsync("v1/ping")).Dispose();
                gateway.RevokeAllTokens();
                gateway.ResetRecords();
                using var response = await api.PostAsync("v1/echo", new StreamContent(new ReadOnceStream(payload)));
                var api2 = gateway.Requests.Where(r => r.IsApiRequest).ToArray();
                return $"{(int)response.StatusCode} sends={string.Join(",", api2.Select(r => r.StatusCode + ":" + r.BodyText))} {string.Join(";", api2.Select(r => string.Join(",", ContentHeaders(r))))}";
            }

            case "RawResendOfConsumedStream":
            {
                var content = new StreamContent(new ReadOnceStream(payload));
                var first = await Send(new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.BaseAddress, "v1/echo")) { Content = content });
                var second = await Send(new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.BaseAddress, "v1/echo")) { Content = content });
                return $"{first} | {second} | recorded {string.Join(",", gateway.Requests.Select(r => r.BodyText))}";
            }

            case "WrongSecret":
                return await Send(new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.BaseAddress, "oauth/token"))
                {
                    Content = new FormUrlEncodedContent([new("grant_type", "client_credentials"), new("client_id", "emulator-client"), new("client_secret", "wrong")]),
                });

            case "LowercaseBearer":
            {
                var token = await TokenAsync();
                var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.BaseAddress, "v1/ping"));
                request.Headers.TryAddWithoutValidation("Authorization", "bearer " + token);
                return await Send(request);
            }

            case "ContentLengthLies":
            {
                var token = await TokenAsync();
                var content = new ByteArrayContent(payload);
                content.Headers.ContentLength = payload.Length + 5;
                var request = new HttpRequestMessage(HttpMethod.Post, new Uri(gateway.BaseAddress, "v1/echo")) { Content = content };
                request.Headers.Authorization = new("Bearer", token);
                return await Send(request);
            }

            case "GetWithBody":
            {
                var token = await TokenAsync();
                var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.BaseAddress, "v1/echo")) { Content = new StringContent("a body on a GET") };
                request.Headers.Authorization = new("Bearer", token);
                var outcome = await Send(request);
                return outcome + " | " + gateway.Requests.Last().BodyText;
            }

            case "MultiValuedHeader":
            {
                var token = await TokenAsync();
                var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.BaseAddress, "v1/echo"));
                request.Headers.Authorization = new("Bearer", token);
                request.Headers.TryAddWithoutValidation("X-Multi", ["a", "b"]);
                var outcome = await Send(request);
                return outcome + " | " + gateway.Requests.Last().Headers["X-Multi"];
            }

            case "EncodedPath":
            {
                var token = await TokenAsync();
                var request = new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.BaseAddress, "v1/echo%2Fsub/%7Ex?q=a%20b&r=%2B"));
                request.Headers.Authorization = new("Bearer", token);
                var outcome = await Send(request);
                var last = gateway.Requests.Last();
                return $"{outcome} | {last.Path} {last.Query}";
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(scenario), scenario, null);
        }
    }

    private sealed class UnreachableException : Exception;
}

public sealed record ProbeAlert(string Kind, double Latitude, double Longitude);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.KebabCaseLower)]
[JsonSerializable(typeof(ProbeAlert))]
internal sealed partial class ProbeJsonContext : JsonSerializerContext;

/// <summary>An IEnumerable written by hand over a queue it drains: enumerated a second time, it is empty.</summary>
internal sealed class DrainingEnumerable(params int[] items) : IEnumerable<int>
{
    private readonly Queue<int> _queue = new(items);

    public IEnumerator<int> GetEnumerator()
    {
        while (_queue.TryDequeue(out var item))
        {
            yield return item;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>The same, claiming to be a read-only collection (as many hand-written wrappers do).</summary>
internal sealed class DrainingReadOnlyCollection(params int[] items) : IReadOnlyCollection<int>
{
    private readonly DrainingEnumerable _inner = new(items);

    public int Count { get; } = items.Length;

    public IEnumerator<int> GetEnumerator() => _inner.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A PushStreamContent-like body: each serialisation pulls the next bytes from a one-shot source.</summary>
internal sealed class PushContent(byte[] data) : HttpContent
{
    private int _serialisations;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        if (Interlocked.Increment(ref _serialisations) == 1)
        {
            await stream.WriteAsync(data);
        }
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _serialisations) == 1)
        {
            stream.Write(data);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}

/// <summary>A gzip-compressing wrapper, as compression handlers write them: Content-Encoding gzip, length unknown.</summary>
internal sealed class GzipContent : HttpContent
{
    private readonly HttpContent _inner;

    public GzipContent(HttpContent inner)
    {
        _inner = inner;
        foreach (var header in inner.Headers.Where(h => h.Key != "Content-Length"))
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        Headers.ContentEncoding.Add("gzip");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await using var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true);
        await _inner.CopyToAsync(gzip);
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        using var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true);
        _inner.CopyTo(gzip, context, cancellationToken);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}

/// <summary>A handler some pipelines put before others: it sends a copy of the request (as hedging and some retry handlers do).</summary>
internal sealed class CloningHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Content = request.Content, Version = request.Version };
        foreach (var header in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return await base.SendAsync(copy, cancellationToken);
    }
}

/// <summary>
/// A handler inside the pipeline (between the bearer handler and the socket) that signs the body into a content
/// header on every send, reading the content to do so: the resend must be signed identically.
/// </summary>
internal sealed class BodySigningHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is { } content)
        {
            content.Headers.ContentMD5 = System.Security.Cryptography.MD5.HashData(await content.ReadAsByteArrayAsync(cancellationToken));
            content.Headers.ContentLanguage.Clear();
            content.Headers.ContentLanguage.Add("en");
        }

        return await base.SendAsync(request, cancellationToken);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is { } content)
        {
            // CopyTo, not ReadAsStream: HttpContent caches the stream ReadAsStream returns, so a second send would read it at its end.
            using var buffer = new MemoryStream();
            content.CopyTo(buffer, null, cancellationToken);
            content.Headers.ContentMD5 = System.Security.Cryptography.MD5.HashData(buffer.ToArray());
            content.Headers.ContentLanguage.Clear();
            content.Headers.ContentLanguage.Add("en");
        }

        return base.Send(request, cancellationToken);
    }
}

/// <summary>A terminal for API requests: records the Authorization each send carried, then answers 401 once, then 200.</summary>
internal sealed class RecordingTerminal : HttpMessageHandler
{
    public List<(Uri Uri, string? Authorization)> Sends { get; } = [];

    public bool UnauthorizedFirst { get; set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        lock (Sends)
        {
            Sends.Add((request.RequestUri!, request.Headers.Authorization?.ToString()));
            var status = UnauthorizedFirst && Sends.Count == 1 ? HttpStatusCode.Unauthorized : HttpStatusCode.OK;
            return Task.FromResult(new HttpResponseMessage(status) { RequestMessage = request, Content = new StringContent("ok", Encoding.UTF8) });
        }
    }
}
