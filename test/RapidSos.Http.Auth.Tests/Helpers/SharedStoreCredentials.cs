using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Helpers;

/// <summary>One credential set's inputs to <see cref="SharedTokenProtector"/>, with a password-grant default each test varies with <c>with</c>.</summary>
public sealed record SharedStoreCredentials
{
    public Uri TokenEndpoint { get; init; } = new("https://gateway.example/oauth/v2/token");

    public RapidSosGrantType GrantType { get; init; } = RapidSosGrantType.Password;

    public string ClientId { get; init; } = "cad-vendor-7";

    public string ClientSecret { get; init; } = "s3cr3t-\u00dcn\u00efcode-\0-:";

    public string? Username { get; init; } = "dispatcher@agency.example";

    public string? Password { get; init; } = "p\u00e4ssw\u00f6rd 12";

    public string? Scope { get; init; } = "alerts";

    public static SharedStoreCredentials ClientCredentials { get; } = new()
    {
        TokenEndpoint = new Uri("https://gateway.example/oauth/token"),
        GrantType = RapidSosGrantType.ClientCredentials,
        ClientSecret = "client-secret-0001",
        Username = null,
        Password = null,
        Scope = null,
    };

    internal SharedTokenProtector Protector() =>
        new(TokenEndpoint, GrantType, ClientId, ClientSecret, Username, Password, Scope);
}
