using System.Globalization;

namespace RapidSos.Http.Auth.Emulator;

/// <summary>
/// The one duration syntax of the command line and the control API: a number with an optional unit,
/// <c>250ms</c>, <c>90s</c>, <c>2m</c>, <c>1h</c>, or plain seconds (<c>90</c>, <c>1.5</c>).
/// </summary>
internal static class Durations
{
    /// <summary>The longest duration accepted anywhere: beyond it a typo is far likelier than an intent.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(3650);

    /// <summary>What the syntax is, for error messages.</summary>
    public const string Syntax = "a duration such as 250ms, 90s, 2m, 1h or plain seconds";

    /// <summary>Parses <paramref name="text"/>; false for anything else, negative values and values beyond <see cref="Max"/> included.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var span = text.AsSpan().Trim();
        var (unitLength, unitTicks) = span switch
        {
            _ when span.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (2, TimeSpan.TicksPerMillisecond),
            _ when span.EndsWith("s", StringComparison.OrdinalIgnoreCase) => (1, TimeSpan.TicksPerSecond),
            _ when span.EndsWith("m", StringComparison.OrdinalIgnoreCase) => (1, TimeSpan.TicksPerMinute),
            _ when span.EndsWith("h", StringComparison.OrdinalIgnoreCase) => (1, TimeSpan.TicksPerHour),
            _ => (0, TimeSpan.TicksPerSecond),
        };
        var number = span[..^unitLength];

        // Digits and at most one decimal point only: no sign, exponent, thousands separator or inner space.
        if (number.IsEmpty || number.ContainsAnyExcept("0123456789.") || number.Count('.') > 1 || number[0] == '.' || number[^1] == '.')
        {
            return false;
        }

        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }

        return FromSeconds(amount * unitTicks / TimeSpan.TicksPerSecond, out value);
    }

    /// <summary>Converts a number of seconds, as a JSON number gives it; false if negative, not finite or beyond <see cref="Max"/>.</summary>
    public static bool FromSeconds(double seconds, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (!double.IsFinite(seconds) || seconds < 0 || seconds > Max.TotalSeconds)
        {
            return false;
        }

        value = TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
        return true;
    }

    /// <summary>Formats a duration so that <see cref="TryParse"/> reads it back: the largest whole unit (<c>1h</c>, <c>90s</c>), else milliseconds.</summary>
    public static string Format(TimeSpan value)
    {
        var ticks = value.Ticks;
        var (unit, suffix) = ticks switch
        {
            0 => (TimeSpan.TicksPerSecond, "s"),
            _ when ticks % TimeSpan.TicksPerHour == 0 => (TimeSpan.TicksPerHour, "h"),
            _ when ticks % TimeSpan.TicksPerMinute == 0 => (TimeSpan.TicksPerMinute, "m"),
            _ when ticks % TimeSpan.TicksPerSecond == 0 => (TimeSpan.TicksPerSecond, "s"),
            _ => (0L, "ms"),
        };
        return unit == 0
            ? value.TotalMilliseconds.ToString("0.####", CultureInfo.InvariantCulture) + suffix
            : (ticks / unit).ToString(CultureInfo.InvariantCulture) + suffix;
    }
}
