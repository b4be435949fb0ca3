using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace RapidSos.Http.Auth.StackExchangeRedis.Internal;

/// <summary>
/// Validates <see cref="RapidSosRedisTokenCacheOptions"/> and names every problem at once, with the option's name,
/// so a bad configuration fails at start-up with a message that says what to fix. Messages never contain
/// <see cref="RapidSosRedisTokenCacheOptions.Configuration"/>'s value: it may hold the Redis password.
/// </summary>
internal sealed class RapidSosRedisTokenCacheOptionsValidator : IValidateOptions<RapidSosRedisTokenCacheOptions>
{
    /// <summary>The longest <see cref="RapidSosRedisTokenCacheOptions.OperationTimeout"/>: beyond it a slow Redis would stall callers.</summary>
    internal static readonly TimeSpan MaxOperationTimeout = TimeSpan.FromSeconds(30);

    public ValidateOptionsResult Validate(string? name, RapidSosRedisTokenCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = Collect(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static List<string> Collect(RapidSosRedisTokenCacheOptions options)
    {
        var failures = new List<string>();
        void Fail(string option, string problem) =>
            failures.Add($"{nameof(RapidSosRedisTokenCacheOptions)}.{option} {problem} (the RapidSOS Redis token cache).");

        var hasConfiguration = options.Configuration is not null;
        var hasFactory = options.ConnectionMultiplexerFactory is not null;
        if (hasConfiguration && hasFactory)
        {
            Fail(nameof(options.Configuration), $"and {nameof(options.ConnectionMultiplexerFactory)} are both set; set only one");
        }
        else if (!hasConfiguration && !hasFactory)
        {
            Fail(nameof(options.Configuration), $"or {nameof(options.ConnectionMultiplexerFactory)} is required");
        }
        else if (hasConfiguration && string.IsNullOrWhiteSpace(options.Configuration))
        {
            Fail(nameof(options.Configuration), "is empty");
        }
        else if (hasConfiguration && !Parses(options.Configuration!))
        {
            // Not StackExchange.Redis's message: it may quote the string, password and all.
            Fail(nameof(options.Configuration), "is not a StackExchange.Redis configuration string (such as redis.internal:6379,ssl=true)");
        }

        if (string.IsNullOrEmpty(options.KeyPrefix))
        {
            Fail(nameof(options.KeyPrefix), "is required");
        }
        else if (options.KeyPrefix.Any(char.IsControl))
        {
            Fail(nameof(options.KeyPrefix), "contains a control character");
        }

        if (options.OperationTimeout <= TimeSpan.Zero)
        {
            Fail(nameof(options.OperationTimeout), $"is {options.OperationTimeout}; it must be greater than zero");
        }
        else if (options.OperationTimeout > MaxOperationTimeout)
        {
            Fail(nameof(options.OperationTimeout), $"is {options.OperationTimeout}; it must be at most {MaxOperationTimeout}");
        }

        return failures;
    }

    private static bool Parses(string configuration)
    {
        try
        {
            ConfigurationOptions.Parse(configuration);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
