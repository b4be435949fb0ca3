using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth;
using RapidSos.Http.Auth.Testing;

// The packages as shipped, published as Native AOT: a typed client with the one-line registration, against the
// packaged emulator started in this process, with the Redis token cache registered against a Redis that is not there
// (port 1), so its code paths are compiled and run too. Exits non-zero when any step does not hold.
var sinceMain = Stopwatch.StartNew();
await using var gateway = await RapidSosGatewayEmulator.StartAsync();
var services = new ServiceCollection();
services.AddRapidSosAuthentication(o =>
{
    o.BaseAddress = gateway.BaseAddress;
    o.ClientId = "emulator-client";
    o.ClientSecret = "emulator-secret";
});
services.AddRapidSosRedisTokenCache(o => o.Configuration = "127.0.0.1:1");
services.AddHttpClient<PingClient>(c => c.BaseAddress = gateway.BaseAddress).AddHttpMessageHandler<BearerTokenHandler>();
await using var provider = services.BuildServiceProvider();

var client = provider.GetRequiredService<PingClient>();
var first = await client.PingAsync();
var toFirstCall = sinceMain.Elapsed;
gateway.RevokeAllTokens();
var afterRevocation = await client.PingAsync();

// After the revocation the handler sees one 401, fetches a second token and retries once: 3 API requests in all.
var ok = first == HttpStatusCode.OK && afterRevocation == HttpStatusCode.OK
    && gateway.SuccessfulTokenRequestCount == 2 && gateway.UnauthorizedCount == 1 && gateway.ApiRequestCount == 3;
Console.WriteLine(
    $"aot smoke: ping {(int)first}, after revocation {(int)afterRevocation}, token requests {gateway.SuccessfulTokenRequestCount}, " +
    $"401s {gateway.UnauthorizedCount}, API requests {gateway.ApiRequestCount}, " +
    $"main to first successful call (emulator start included) {toFirstCall.TotalMilliseconds:F0} ms: {(ok ? "OK" : "FAILED")}");
return ok ? 0 : 1;

internal sealed class PingClient(HttpClient http)
{
    public async Task<HttpStatusCode> PingAsync()
    {
        using var response = await http.GetAsync("v1/ping");
        return response.StatusCode;
    }
}
