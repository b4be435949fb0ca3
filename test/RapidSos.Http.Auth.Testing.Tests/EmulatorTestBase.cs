using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace RapidSos.Http.Auth.Testing.Tests;

/// <summary>The two forms of the emulator; fixtures deriving from <see cref="EmulatorTestBase"/> run against each.</summary>
public enum EmulatorHosting
{
    Kestrel,
    InMemory,
}

/// <summary>Starts emulators in the fixture's form and disposes them, and their clients, after each test.</summary>
public abstract class EmulatorTestBase
{
    internal const string ClientId = "emulator-client";
    internal const string ClientSecret = "emulator-secret";
    internal const string Username = "emulator-user";
    internal const string Password = "emulator-password";

    private readonly List<HttpClient> _clients = [];
    private readonly List<RapidSosGatewayEmulator> _emulators = [];

    protected EmulatorTestBase(EmulatorHosting hosting) => Hosting = hosting;

    protected EmulatorHosting Hosting { get; }

    [TearDown]
    public async Task DisposeEmulatorsAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        foreach (var emulator in _emulators)
        {
            await emulator.DisposeAsync();
        }

        _clients.Clear();
        _emulators.Clear();
    }

    protected async Task<(RapidSosGatewayEmulator Emulator, HttpClient Client)> StartAsync(RapidSosGatewayEmulatorOptions? options = null)
    {
        var emulator = Hosting == EmulatorHosting.Kestrel
            ? await RapidSosGatewayEmulator.StartAsync(options)
            : RapidSosGatewayEmulator.CreateInMemory(options);
        _emulators.Add(emulator);
        var client = emulator.CreateClient();
        _clients.Add(client);
        return (emulator, client);
    }

    protected static FormUrlEncodedContent ClientCredentialsForm(string clientId = ClientId, string clientSecret = ClientSecret, string? scope = null)
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new("grant_type", "client_credentials"),
            new("client_id", clientId),
            new("client_secret", clientSecret),
        };
        if (scope is not null)
        {
            fields.Add(new("scope", scope));
        }

        return new FormUrlEncodedContent(fields);
    }

    protected static FormUrlEncodedContent PasswordForm(
        string username = Username, string password = Password, string clientId = ClientId, string clientSecret = ClientSecret) =>
        new([
            new("grant_type", "password"),
            new("client_id", clientId),
            new("client_secret", clientSecret),
            new("username", username),
            new("password", password),
        ]);

    protected static StringContent RawForm(string body) => new(body, Encoding.UTF8, "application/x-www-form-urlencoded");

    protected static async Task<string> GetTokenAsync(HttpClient client, string clientId = ClientId, string clientSecret = ClientSecret)
    {
        using var response = await client.PostAsync("oauth/token", ClientCredentialsForm(clientId, clientSecret));
        return await ReadTokenAsync(response);
    }

    protected static async Task<string> GetUserTokenAsync(
        HttpClient client, string username = Username, string password = Password, string clientId = ClientId, string clientSecret = ClientSecret)
    {
        using var response = await client.PostAsync("oauth/v2/token", PasswordForm(username, password, clientId, clientSecret));
        return await ReadTokenAsync(response);
    }

    /// <summary>Asks for a client-credentials token with the client in an HTTP Basic header rather than in the form.</summary>
    protected static async Task<HttpResponseMessage> PostBasicTokenRequestAsync(HttpClient client, string clientId, string clientSecret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "oauth/token")
        {
            Content = new FormUrlEncodedContent([new("grant_type", "client_credentials")]),
            Headers = { Authorization = new AuthenticationHeaderValue("Basic", BasicHeader(clientId, clientSecret)) },
        };
        return await client.SendAsync(request);
    }

    protected static async Task<string> ReadTokenAsync(HttpResponseMessage response)
    {
        Assert.That(response.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.OK), "token request");
        using var json = await ReadJsonAsync(response);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    protected static async Task<HttpResponseMessage> GetWithTokenAsync(HttpClient client, string path, string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return await client.SendAsync(request);
    }

    protected static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync());

    /// <summary>RFC 6749 section 2.3.1: Base64 of the form-encoded id, ':' and the form-encoded secret.</summary>
    protected static string BasicHeader(string clientId, string clientSecret) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(FormEncode(clientId) + ":" + FormEncode(clientSecret)));

    protected static string FormEncode(string value) => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal);

    protected static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);
}
