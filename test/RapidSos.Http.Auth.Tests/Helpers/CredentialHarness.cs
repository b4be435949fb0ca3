using System.Text;
using Microsoft.Extensions.DependencyInjection;

namespace RapidSos.Http.Auth.Tests.Helpers;

/// <summary>
/// The harness for run-time credentials: a <see cref="ProviderHarness"/> whose token endpoint names the client (user,
/// scope) each token was issued to, and an API client with the bearer handler over a <see cref="RecordingApiHandler"/>,
/// so a test can tell whose token every request carried.
/// </summary>
internal static class CredentialHarness
{
    public static HttpResponseMessage IssueNamedToken(int n, HttpRequestMessage request)
    {
        var form = new RecordedTokenRequest(request.Method, request.RequestUri!, null, null, request.Content!.ReadAsStringAsync().Result).Form;
        var owner = form.TryGetValue("client_id", out var id) ? id : Encoding.UTF8.GetString(Convert.FromBase64String(request.Headers.Authorization!.Parameter!)).Split(':')[0];
        var scope = form.TryGetValue("scope", out var s) ? $"[{s}]" : "[-]";
        var user = form.TryGetValue("username", out var u) ? "." + u : string.Empty;
        return StubTokenEndpoint.Token($"{owner}{user}.{n}{(scope == "[-]" ? string.Empty : scope)}");
    }

    public static (ProviderHarness Harness, RecordingApiHandler Api, HttpClient Client) Start(
        Action<RapidSosAuthOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var api = new RecordingApiHandler();
        var h = new ProviderHarness(configure, s =>
        {
            s.AddHttpClient("api", c => c.BaseAddress = new Uri("https://api.test.example/"))
                .AddRapidSosBearerToken()
                .ConfigurePrimaryHttpMessageHandler(() => api);
            services?.Invoke(s);
        });
        h.Endpoint.Respond = IssueNamedToken;
        return (h, api, h.Services.GetRequiredService<IHttpClientFactory>().CreateClient("api"));
    }

    public static HttpRequestMessage Get(RapidSosCredential? credential = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "v1/ping");
        return credential is null ? request : request.WithRapidSosCredential(credential);
    }


    public static string? TokenOf(string? authorization) => authorization?["Bearer ".Length..];
}
