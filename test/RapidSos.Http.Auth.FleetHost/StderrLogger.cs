using System.Globalization;
using Microsoft.Extensions.Logging;

namespace RapidSos.Http.Auth.FleetHost;

/// <summary>One category's entries on stderr: time, instance, level, category, the message and the exception's type and message (the library keeps secrets out of both).</summary>
internal sealed class StderrLogger(LogLevel minimum, string instance, string category) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"{DateTimeOffset.UtcNow:HH:mm:ss.fff} [{instance}] {logLevel} {category}: {formatter(state, exception)}{(exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message})")}");
        Console.Error.WriteLine(line);
    }
}
