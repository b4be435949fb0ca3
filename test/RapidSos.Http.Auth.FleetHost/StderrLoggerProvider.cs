using Microsoft.Extensions.Logging;

namespace RapidSos.Http.Auth.FleetHost;

/// <summary>Writes log entries at or above a level to stderr, one line each, so the driver can show an instance's logs when a run goes wrong.</summary>
internal sealed class StderrLoggerProvider(LogLevel minimum, string instance) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new StderrLogger(minimum, instance, categoryName);

    public void Dispose()
    {
    }
}
