using System.Globalization;

namespace RapidSos.Http.Auth.Benchmarks.Quick;

/// <summary>
/// Prints one figure per line, <c>name: value unit</c>, with "goal met" or "goal missed" after the figures that have
/// a goal, and keeps count of the goals and of the failed checks (exact counts that must hold).
/// </summary>
internal static class Report
{
    private static readonly List<string> s_missedGoals = [];
    private static readonly List<string> s_failedChecks = [];
    private static int s_goals;

    public static IReadOnlyList<string> MissedGoals => s_missedGoals;

    public static IReadOnlyList<string> FailedChecks => s_failedChecks;

    public static int Goals => s_goals;

    public static void Section(string title) => Console.WriteLine($"# {title}");

    public static void Note(string text) => Console.WriteLine($"#   {text}");

    public static void Figure(string name, double value, string unit, string format = "0.0", string? note = null) =>
        Console.WriteLine($"{name}: {Format(value, format)} {unit}{(note is null ? string.Empty : "  (" + note + ")")}");

    public static void Delta(string name, double value, string unit, string format = "0.0", string? note = null) =>
        Console.WriteLine($"{name}: {(value >= 0 ? "+" : string.Empty)}{Format(value, format)} {unit}{(note is null ? string.Empty : "  (" + note + ")")}");

    /// <summary>A figure with a goal: prints it with "goal met" or "goal missed".</summary>
    public static void Goal(string name, string formattedValue, string unit, bool met, string goal)
    {
        s_goals++;
        if (!met)
        {
            s_missedGoals.Add(name);
        }

        Console.WriteLine($"{name}: {formattedValue} {unit}  (goal {goal}: {(met ? "goal met" : "goal missed")})");
    }

    /// <summary>An exact count that must hold; a miss makes the run exit with 1.</summary>
    public static void Check(string name, long actual, long expectedMin, long expectedMax, string unit)
    {
        var ok = actual >= expectedMin && actual <= expectedMax;
        if (!ok)
        {
            s_failedChecks.Add(name);
        }

        var expected = expectedMin == expectedMax
            ? expectedMin.ToString(CultureInfo.InvariantCulture)
            : $"{expectedMin}..{expectedMax}";
        Console.WriteLine($"{name}: {actual.ToString(CultureInfo.InvariantCulture)} {unit}  (expected {expected}: {(ok ? "ok" : "FAILED")})");
    }

    public static string Format(double value, string format = "0.0") => value.ToString(format, CultureInfo.InvariantCulture);
}
