using System.Net;

namespace RapidSos.Http.Auth.Demo;

/// <summary>
/// A typed client as an application writes it: it knows nothing about tokens. Authentication comes from the
/// one line in its registration, <c>.AddHttpMessageHandler&lt;BearerTokenHandler&gt;()</c>.
/// </summary>
internal sealed class EmergencyDataClient(HttpClient http)
{
    public async Task<HttpStatusCode> PingAsync(CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync("v1/ping", cancellationToken);
        return response.StatusCode;
    }

    public async Task<(HttpStatusCode Status, string Echo)> SendAlertAsync(string json, CancellationToken cancellationToken = default)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("v1/echo", content, cancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }
}
