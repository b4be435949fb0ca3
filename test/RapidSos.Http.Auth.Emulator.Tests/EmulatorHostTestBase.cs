using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace RapidSos.Http.Auth.Emulator.Tests;

/// <summary>
/// Starts the host in-process, exactly as the command line would (parsed from arguments, free ports), with a client
/// for the gateway and one for the control API; disposes them after each test.
/// </summary>
public abstract class EmulatorHostTestBase
{
    internal const string ClientA = "agency-a";
    internal const string SecretA = "secret-a-7Hq9";
    internal const string ClientB = "agency-b";
    internal const string SecretB = "secret-b-Zp31";
    internal const string UserA = "tc@agency-a.example";
    internal const string PasswordA = "password-a-Wm82";

    private readonly List<IAsyncDisposable> _disposables = [];
    private readonly List<IDisposable> _clients = [];

    internal EmulatorHost Host { get; private set; } = null!;

    /// <summary>Gets a client whose base address is the control API's root, <c>http://127.0.0.1:port/_emulator/</c>.</summary>
    protected HttpClient Control { get; private set; } = null!;

    /// <summary>Gets a client whose base address is the gateway's root.</summary>
    protected HttpClient Gateway { get; private set; } = null!;

    [TearDown]
    public async Task DisposeHostAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        foreach (var disposable in _disposables)
        {
            await disposable.DisposeAsync();
        }

        _clients.Clear();
        _disposables.Clear();
    }

    /// <summary>
    /// Starts a host with two clients and a user of the first (or <paramref name="args"/> instead), on free ports.
    /// </summary>
    protected async Task StartHostAsync(params string[] args)
    {
        if (args.Length == 0)
        {
            args = ["--client", $"{ClientA}:{SecretA}", "--client", $"{ClientB}:{SecretB}", "--user", $"{ClientA}:{UserA}:{PasswordA}"];
        }

        var settings = CommandLine.Parse([.. args, "--port", "0", "--control-port", "0"]);
        Host = await EmulatorHost.StartAsync(settings, CancellationToken.None);
        _disposables.Add(Host);
        Control = Track(new HttpClient { BaseAddress = Host.ControlAddress });
        Gateway = Track(new HttpClient { BaseAddress = Host.GatewayAddress });
    }

    protected T Track<T>(T disposable)
        where T : IDisposable
    {
        _clients.Add(disposable);
        return disposable;
    }

    protected async Task<HttpResponseMessage> RequestTokenAsync(string clientId, string clientSecret) =>
        await Gateway.PostAsync("oauth/token", new FormUrlEncodedContent([
            new("grant_type", "client_credentials"),
            new("client_id", clientId),
            new("client_secret", clientSecret),
        ]));

    protected async Task<string> GetTokenAsync(string clientId = ClientA, string clientSecret = SecretA)
    {
        using var response = await RequestTokenAsync(clientId, clientSecret);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"token request of {clientId}");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    protected async Task<HttpResponseMessage> RequestUserTokenAsync(string username, string password, string clientId, string clientSecret) =>
        await Gateway.PostAsync("oauth/v2/token", new FormUrlEncodedContent([
            new("grant_type", "password"),
            new("client_id", clientId),
            new("client_secret", clientSecret),
            new("username", username),
            new("password", password),
        ]));

    protected async Task<string> GetUserTokenAsync(string username = UserA, string password = PasswordA, string clientId = ClientA, string clientSecret = SecretA)
    {
        using var response = await RequestUserTokenAsync(username, password, clientId, clientSecret);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"password-grant token request of {username}");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>Calls the protected API with the token and returns the status code.</summary>
    protected async Task<HttpStatusCode> PingAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/ping") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };
        using var response = await Gateway.SendAsync(request);
        return response.StatusCode;
    }

    protected Task<ControlAnswer> PostAsync(string path, string? json = null) =>
        SendAsync(HttpMethod.Post, path, json);

    protected Task<ControlAnswer> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    protected Task<ControlAnswer> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path, null);

    protected async Task<ControlAnswer> SendAsync(HttpMethod method, string path, string? json, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        configure?.Invoke(request);
        using var response = await Control.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var headers = string.Join("\n", response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(", ", h.Value)}"));
        return new ControlAnswer(response.StatusCode, body, headers, response.Content.Headers.ContentType?.MediaType, response.Content.Headers.Allow.ToArray());
    }
}
