using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Healthy while a valid token is cached or can be obtained; Degraded while callers run on a still-valid token
/// whose refresh keeps failing; Unhealthy (or the registration's failure status) when no token can be had.
/// A cached, valid token answers the probe without a token request. It checks the registration's own credentials;
/// a registration with only run-time credentials (<see cref="RapidSosCredential"/>) is reported Healthy, saying so.
/// </summary>
internal sealed class RapidSosTokenHealthCheck : IHealthCheck
{
    private readonly ITokenProvider _provider;
    private readonly string _registration;

    public RapidSosTokenHealthCheck(ITokenProvider provider, string registration)
    {
        _provider = provider;
        _registration = registration;
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_provider is CachingTokenProvider { HasStaticCredentials: false })
        {
            // The check covers a registration's own credentials; run-time ones (one per agency or user) come and go
            // with their requests, and one agency's revoked secret must not mark the whole service unhealthy.
            return HealthCheckResult.Healthy(
                $"RapidSOS registration '{RegistrationName.Display(_registration)}' has no credentials of its own to check; its run-time credentials are checked by their own requests.",
                new Dictionary<string, object> { ["registration"] = RegistrationName.Display(_registration) });
        }

        if (_provider is CachingTokenProvider { Lifecycle: { } lifecycle } && lifecycle.State is { HasToken: true, Token: { } current } state)
        {
            var data = Data(current.ExpiresAt, lifecycle.Key.ClientId);
            return state.Failure is { } failure
                ? HealthCheckResult.Degraded(
                    $"RapidSOS registration '{RegistrationName.Display(_registration)}' runs on a token that expires at {current.ExpiresAt:O}; " +
                    $"{failure.Attempts} refresh attempt(s) failed: {failure.Exception.Message}",
                    exception: null,
                    data)
                : HealthCheckResult.Healthy($"RapidSOS registration '{RegistrationName.Display(_registration)}' has a valid token until {current.ExpiresAt:O}.", data);
        }

        try
        {
            var token = await _provider.GetTokenAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy(
                $"RapidSOS registration '{RegistrationName.Display(_registration)}' obtained a token valid until {token.ExpiresAt:O}.",
                Data(token.ExpiresAt, clientId: null));
        }
        catch (Exception ex) when (ex is RapidSosAuthenticationException or OptionsValidationException)
        {
            // The messages name the endpoint, status and gateway text (or each invalid option); never a secret.
            return new HealthCheckResult(context.Registration.FailureStatus, ex.Message, ex);
        }
    }

    private Dictionary<string, object> Data(DateTimeOffset expiresAt, string? clientId)
    {
        var data = new Dictionary<string, object>
        {
            ["registration"] = RegistrationName.Display(_registration),
            ["expires_at"] = expiresAt.ToString("O", CultureInfo.InvariantCulture),
        };
        if (clientId is not null)
        {
            data["client_id"] = clientId;
        }

        return data;
    }
}
