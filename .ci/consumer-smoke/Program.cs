using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth;
using RapidSos.Http.Auth.Testing;

// The packages as shipped: a typed client with the one-line registration, against the packaged emulator, with the
// Redis token cache registered against a Redis that is not there (port 1): the instance goes on alone.
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
gateway.RevokeAllTokens();
var afterRevocation = await client.PingAsync();
var ok = first == HttpStatusCode.OK && afterRevocation == HttpStatusCode.OK && gateway.SuccessfulTokenRequestCount == 2;
Console.WriteLine($"consumer smoke: ping {(int)first}, after revocation {(int)afterRevocation}, token requests {gateway.SuccessfulTokenRequestCount}: {(ok ? "OK" : "FAILED")}");
return ok ? 0 : 1;

internal sealed class PingClient(HttpClient http)
{
    public async Task<HttpStatusCode> PingAsync()
    {
        using var response = await http.GetAsync("v1/ping");
        return response.StatusCode;
    }
}
