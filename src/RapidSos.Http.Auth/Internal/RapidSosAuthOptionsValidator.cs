using Microsoft.Extensions.Options;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Validates <see cref="RapidSosAuthOptions"/> and names every problem at once, with the option's name and the
/// registration's, so a bad configuration fails at start-up (or at the first request) with a message that says
/// what to fix. Messages never contain a secret's value.
/// </summary>
internal sealed class RapidSosAuthOptionsValidator : IValidateOptions<RapidSosAuthOptions>
{
    public ValidateOptionsResult Validate(string? name, RapidSosAuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = Collect(name ?? Options.DefaultName, options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// For options bound from configuration, the key that sets <paramref name="option"/> and its environment-variable
    /// spelling ("RapidSos:ClientSecret", "RapidSos__ClientSecret"), so the fix is one look away.
    /// </summary>
    private static string WhereToSet(RapidSosAuthOptions options, string option)
    {
        if (options.ConfigurationPath is not { } path)
        {
            return string.Empty;
        }

        // "AdditionalOrigins[0]" is the key "AdditionalOrigins:0".
        var relative = option.Replace("[", ":", StringComparison.Ordinal).TrimEnd(']');
        var key = path.Length == 0 ? relative : Microsoft.Extensions.Configuration.ConfigurationPath.Combine(path, relative);
        return $"; configuration key '{key}', environment variable '{key.Replace(":", "__", StringComparison.Ordinal)}'";
    }

    internal static List<string> Collect(string name, RapidSosAuthOptions options)
    {
        var failures = new List<string>();
        var registration = string.IsNullOrEmpty(name) ? "the default RapidSOS registration" : $"RapidSOS registration '{name}'";
        void Fail(string option, string problem) => failures.Add($"{nameof(RapidSosAuthOptions)}.{option} {problem} ({registration}{WhereToSet(options, option)}).");
        foreach (var bindingError in options.BindingErrors)
        {
            failures.Add($"{bindingError} ({registration})");
        }

        if (options.BaseAddress is null)
        {
            Fail(nameof(options.BaseAddress), "is required");
        }
        else
        {
            CheckAddress(options.BaseAddress, nameof(options.BaseAddress), Fail);
        }

        if (options.TokenEndpoint is not null)
        {
            CheckAddress(options.TokenEndpoint, nameof(options.TokenEndpoint), Fail);
        }

        if (!Enum.IsDefined(options.GrantType))
        {
            Fail(nameof(options.GrantType), $"has the unknown value {(int)options.GrantType}; use ClientCredentials or Password");
        }

        if (!Enum.IsDefined(options.ClientAuthentication))
        {
            Fail(nameof(options.ClientAuthentication), $"has the unknown value {(int)options.ClientAuthentication}; use FormFields or BasicHeader");
        }

        // A registration may have no credentials of its own, only run-time ones (RapidSosCredential): then neither is set.
        if (options.HasStaticCredentials)
        {
            if (string.IsNullOrWhiteSpace(options.ClientId))
            {
                Fail(nameof(options.ClientId), "is required when ClientSecret is set");
            }
            else if (HasControlCharacter(options.ClientId))
            {
                Fail(nameof(options.ClientId), "contains a control character");
            }

            if (string.IsNullOrWhiteSpace(options.ClientSecret))
            {
                Fail(nameof(options.ClientSecret), "is required when ClientId is set");
            }

            if (options.GrantType == RapidSosGrantType.Password)
            {
                if (string.IsNullOrWhiteSpace(options.Username))
                {
                    Fail(nameof(options.Username), "is required for the Password grant");
                }
                else if (HasControlCharacter(options.Username))
                {
                    Fail(nameof(options.Username), "contains a control character");
                }

                if (string.IsNullOrEmpty(options.Password))
                {
                    Fail(nameof(options.Password), "is required for the Password grant");
                }
            }
        }

        if (options.MaxCredentialSets < 1)
        {
            Fail(nameof(options.MaxCredentialSets), $"is {options.MaxCredentialSets}; it must be at least 1");
        }

        if (options.Scope is not null && HasControlCharacter(options.Scope))
        {
            Fail(nameof(options.Scope), "contains a control character");
        }

        if (options.RefreshBeforeExpiry < TimeSpan.Zero)
        {
            Fail(nameof(options.RefreshBeforeExpiry), $"is {options.RefreshBeforeExpiry}; it must be zero (no refresh ahead) or positive");
        }

        if (options.AdditionalOrigins is { } origins)
        {
            for (var i = 0; i < origins.Count; i++)
            {
                if (origins[i] is null)
                {
                    Fail($"{nameof(options.AdditionalOrigins)}[{i}]", "is null");
                }
                else
                {
                    CheckAddress(origins[i], $"{nameof(options.AdditionalOrigins)}[{i}]", Fail);
                }
            }
        }

        return failures;
    }

    private static void CheckAddress(Uri address, string option, Action<string, string> fail)
    {
        if (!address.IsAbsoluteUri)
        {
            fail(option, $"must be an absolute URI, not '{DisplayUri.OfText(address.OriginalString)}'");
            return;
        }

        var shown = DisplayUri.OfText(address.OriginalString);
        if (address.Scheme != Uri.UriSchemeHttps && !(address.Scheme == Uri.UriSchemeHttp && address.IsLoopback))
        {
            fail(option, $"must use https (plain http is allowed only for loopback hosts), not '{shown}'");
        }

        if (!string.IsNullOrEmpty(address.UserInfo))
        {
            fail(option, $"must not contain user information (a user name or password before '@'; not shown here); set ClientId and ClientSecret instead ('{shown}')");
        }

        if (!string.IsNullOrEmpty(address.Query) || !string.IsNullOrEmpty(address.Fragment))
        {
            fail(option, $"must not contain a query or fragment ('{shown}')");
        }
    }

    private static bool HasControlCharacter(string value) => value.Any(char.IsControl);
}
