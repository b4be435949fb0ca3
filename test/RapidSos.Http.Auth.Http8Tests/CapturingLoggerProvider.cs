using System.Collections;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace RapidSos.Http.Auth.Http8Tests;

/// <summary>
/// Records, as text, everything a log sink could write: every entry's category, formatted message, structured
/// state (each key and value, a sequence value element by element) and exception, and every scope's text and
/// key/values when it begins. Every level is enabled.
/// </summary>
/// <remarks>
/// One exception: of the header lists HttpClient's logging passes as state (<c>HttpHeadersLogValue</c>), only the
/// header names are recorded. Microsoft.Extensions.Http hands sinks every header's raw value there, on 8.x and
/// 10.x alike, and applies <c>ShouldRedactHeaderValue</c> only to the formatted text, so no redaction setting can
/// reach those values; a sink that writes state values must keep <c>System.Net.Http.HttpClient</c> above Trace.
/// </remarks>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, string Line)> _lines = new();

    /// <summary>All captured text.</summary>
    public string Text => string.Join("\n", _lines.Select(l => $"[{l.Category}] {l.Line}"));

    /// <summary>The captured text of the categories whose names contain <paramref name="part"/>.</summary>
    public string TextOf(string part) =>
        string.Join("\n", _lines.Where(l => l.Category.Contains(part, StringComparison.Ordinal)).Select(l => l.Line));

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, _lines);

    public void Dispose()
    {
    }

    private static IEnumerable<string> Describe(object? state)
    {
        yield return $"text: {state}";
        if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            var headerList = state.GetType().FullName == "Microsoft.Extensions.Http.Logging.HttpHeadersLogValue";
            foreach (var (key, value) in pairs)
            {
                yield return headerList ? $"state: header {key}" : $"state: {key}={Render(value)}";
            }
        }
    }

    private static string Render(object? value) => value is IEnumerable sequence and not string
        ? string.Join(", ", sequence.Cast<object?>())
        : $"{value}";

    private sealed class CapturingLogger(string category, ConcurrentQueue<(string, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            foreach (var line in Describe(state))
            {
                lines.Enqueue((category, "scope " + line));
            }

            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lines.Enqueue((category, $"{logLevel} {eventId}: {formatter(state, exception)}"));
            foreach (var line in Describe(state))
            {
                lines.Enqueue((category, line));
            }

            if (exception is not null)
            {
                lines.Enqueue((category, "exception: " + exception));
            }
        }
    }
}
