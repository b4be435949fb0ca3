namespace RapidSos.Http.Auth.Demo;

/// <summary>Console output: a line per step, colour only on a terminal that wants it.</summary>
internal static class Out
{
    private static readonly bool s_colour =
        !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null && Environment.GetEnvironmentVariable("TERM") != "dumb";

    public static void Title(string text) => Write(text, "1;36");

    public static void Step(int number, string text) => Console.WriteLine($"{Paint($"[{number}]", "1")} {text}");

    public static void Info(string text) => Console.WriteLine($"    {text}");

    public static void Pass(string text) => Console.WriteLine($"    {Paint("PASS", "32")} {text}");

    public static void Fail(string text) => Console.WriteLine($"    {Paint("FAIL", "31")} {text}");

    public static void Error(string text) => Console.Error.WriteLine($"{Paint("error:", "31")} {text}");

    public static string Paint(string text, string code) => s_colour ? $"\u001b[{code}m{text}\u001b[0m" : text;

    private static void Write(string text, string code) => Console.WriteLine(Paint(text, code));
}
