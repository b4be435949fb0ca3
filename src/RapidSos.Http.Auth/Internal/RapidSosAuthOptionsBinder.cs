using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Binds <see cref="RapidSosAuthOptions"/> from configuration without reflection (trimming- and AOT-safe).
/// Unlike the reflection binder, which throws at the first value it cannot convert, it records every bad value
/// with its configuration path, and the options validator reports them all at once.
/// </summary>
internal static class RapidSosAuthOptionsBinder
{
    public static void Bind(IConfiguration configuration, RapidSosAuthOptions options)
    {
        options.ConfigurationPath = configuration is IConfigurationSection bound ? bound.Path : string.Empty;
        string? Value(string key) => configuration[key] is { Length: > 0 } value ? value : null;
        string PathOf(string key) => configuration is IConfigurationSection section ? ConfigurationPath.Combine(section.Path, key) : key;
        void Bad(string key, string value, string expected) =>
            options.BindingErrors.Add($"Configuration value '{PathOf(key)}' = '{value}' is not {expected}.");

        // A URL may carry credentials in its user information or query: shown without them, never as configured.
        void BadUri(string key, string value) =>
            options.BindingErrors.Add($"Configuration value '{PathOf(key)}' = '{DisplayUri.OfText(value)}' is not an absolute http(s) URI.");

        if (Value(nameof(options.BaseAddress)) is { } baseAddress)
        {
            if (TryParseHttpUri(baseAddress, out var uri))
            {
                options.BaseAddress = uri;
            }
            else
            {
                BadUri(nameof(options.BaseAddress), baseAddress);
            }
        }

        if (Value(nameof(options.TokenEndpoint)) is { } tokenEndpoint)
        {
            if (TryParseHttpUri(tokenEndpoint, out var uri))
            {
                options.TokenEndpoint = uri;
            }
            else
            {
                BadUri(nameof(options.TokenEndpoint), tokenEndpoint);
            }
        }

        if (Value(nameof(options.GrantType)) is { } grantType)
        {
            if (TryParseEnum<RapidSosGrantType>(grantType, out var grant))
            {
                options.GrantType = grant;
            }
            else
            {
                Bad(nameof(options.GrantType), grantType, "ClientCredentials or Password");
            }
        }

        if (Value(nameof(options.ClientAuthentication)) is { } clientAuthentication)
        {
            if (TryParseEnum<RapidSosClientAuthentication>(clientAuthentication, out var mode))
            {
                options.ClientAuthentication = mode;
            }
            else
            {
                Bad(nameof(options.ClientAuthentication), clientAuthentication, "FormFields or BasicHeader");
            }
        }

        // Secrets are taken as they are: never echoed into a message.
        options.ClientId = configuration[nameof(options.ClientId)] ?? options.ClientId;
        options.ClientSecret = configuration[nameof(options.ClientSecret)] ?? options.ClientSecret;
        options.Username = configuration[nameof(options.Username)] ?? options.Username;
        options.Password = configuration[nameof(options.Password)] ?? options.Password;
        options.Scope = configuration[nameof(options.Scope)] ?? options.Scope;

        if (Value(nameof(options.RefreshBeforeExpiry)) is { } refresh)
        {
            if (TimeSpan.TryParse(refresh, CultureInfo.InvariantCulture, out var window))
            {
                options.RefreshBeforeExpiry = window;
            }
            else
            {
                Bad(nameof(options.RefreshBeforeExpiry), refresh, "a time span such as 00:05:00");
            }
        }

        if (Value(nameof(options.RetryOnUnauthorized)) is { } retry)
        {
            if (bool.TryParse(retry, out var enabled))
            {
                options.RetryOnUnauthorized = enabled;
            }
            else
            {
                Bad(nameof(options.RetryOnUnauthorized), retry, "true or false");
            }
        }

        if (Value(nameof(options.AcquireTokenOnStart)) is { } acquire)
        {
            if (bool.TryParse(acquire, out var enabled))
            {
                options.AcquireTokenOnStart = enabled;
            }
            else
            {
                Bad(nameof(options.AcquireTokenOnStart), acquire, "true or false");
            }
        }

        if (Value(nameof(options.MaxCredentialSets)) is { } maxSets)
        {
            if (int.TryParse(maxSets, NumberStyles.None, CultureInfo.InvariantCulture, out var max))
            {
                options.MaxCredentialSets = max;
            }
            else
            {
                Bad(nameof(options.MaxCredentialSets), maxSets, "a whole number such as 10000");
            }
        }

        foreach (var child in configuration.GetSection(nameof(options.AdditionalOrigins)).GetChildren())
        {
            if (child.Value is not { Length: > 0 } origin)
            {
                continue;
            }

            if (TryParseHttpUri(origin, out var uri))
            {
                options.AdditionalOrigins.Add(uri);
            }
            else
            {
                options.BindingErrors.Add($"Configuration value '{child.Path}' = '{DisplayUri.OfText(origin)}' is not an absolute http(s) URI.");
            }
        }
    }

    // On Unix "/path" parses as an absolute file URI: only http and https addresses are addresses here.
    private static bool TryParseHttpUri(string text, out Uri uri) =>
        Uri.TryCreate(text, UriKind.Absolute, out uri!) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    private static bool TryParseEnum<TEnum>(string text, out TEnum value)
        where TEnum : struct, Enum =>
        Enum.TryParse(text, ignoreCase: true, out value) && Enum.IsDefined(value) && !char.IsAsciiDigit(text.TrimStart()[0]) && text.TrimStart()[0] != '-';
}
