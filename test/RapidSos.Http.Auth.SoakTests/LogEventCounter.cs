using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RapidSos.Http.Auth.SoakTests;

/// <summary>
/// Counts the library's log events by event id (see the README's Logging bullet) and keeps nothing else: no message
/// is formatted, so nothing per request is retained and the hot path is not slowed by logging.
/// </summary>
internal sealed class LogEventCounter : ILoggerProvider
{
    private const string LibraryCategory = "RapidSos.Http.Auth";

    private readonly ConcurrentDictionary<int, long> _counts = new();

    public IReadOnlyDictionary<int, long> Counts => new SortedDictionary<int, long>(_counts);

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith(LibraryCategory, StringComparison.Ordinal) ? new Counter(this) : NoLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class Counter(LogEventCounter owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._counts.AddOrUpdate(eventId.Id, 1, static (_, count) => count + 1);
    }

    private sealed class NoLogger : ILogger
    {
        public static readonly NoLogger Instance = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => false;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }
    }
}
