using Microsoft.Extensions.Diagnostics.HealthChecks;
using RapidSos.Http.Auth;
using RapidSos.Http.Auth.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Adds a readiness check on a RapidSOS registration's token.
/// </summary>
public static class RapidSosHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check that is Healthy while a valid token is cached or can be obtained, Degraded while the
    /// application runs on a still-valid token because refreshes fail, and Unhealthy when no token can be had
    /// (with the gateway's message, never a secret). A probe does not request a token while a valid one is cached.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="registrationName">The RapidSOS registration to check, or <see langword="null"/> for the default one.</param>
    /// <param name="failureStatus">The status reported when no token can be had; <see cref="HealthStatus.Unhealthy"/> when <see langword="null"/>.</param>
    /// <param name="tags">Tags for filtering checks, such as <c>ready</c>.</param>
    /// <returns><paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static IHealthChecksBuilder AddRapidSosTokenCheck(
        this IHealthChecksBuilder builder,
        string? registrationName = null,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var registration = registrationName ?? Options.Options.DefaultName;
        var checkName = registration.Length == 0 ? "rapidsos-token" : $"rapidsos-token-{registration}";
        return builder.Add(new HealthCheckRegistration(
            checkName,
            sp => new RapidSosTokenHealthCheck(
                sp.GetKeyedService<ITokenProvider>(registration)
                    ?? throw new InvalidOperationException($"No RapidSOS registration named '{registration}' exists for the health check '{checkName}'."),
                registration),
            failureStatus,
            tags));
    }
}
