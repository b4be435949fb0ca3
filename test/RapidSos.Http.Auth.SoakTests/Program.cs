namespace RapidSos.Http.Auth.SoakTests;

/// <summary>
/// The runnable mode: <c>dotnet run --project test/RapidSos.Http.Auth.SoakTests -- --duration 120</c>. Runs the same
/// soak as the NUnit test, prints the report, and exits 0 when every check held, 1 when one did not, 2 on bad arguments.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: dotnet run --project test/RapidSos.Http.Auth.SoakTests -- [--duration 120] [--workers 64] [--seed N] [--max-requests N]
          --duration       how long the workers send requests: seconds (120), or 90s, 10m, 1h, 00:10:00 (default 20 s)
          --workers        concurrent workers, one call in flight each (default 64)
          --seed           seed of the faults, revocations and bodies (default 20261127)
          --max-requests   stop after this many calls even if time remains (default 20000000)
        Traffic goes only to the gateway emulator on 127.0.0.1. Ctrl+C stops the run early (it then fails).
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args is ["--help"] or ["-h"] or ["-?"])
        {
            Console.WriteLine(Usage);
            return 0;
        }

        SoakOptions options;
        try
        {
            options = SoakOptions.Parse(args);
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }

        using var interrupt = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupt.Cancel();
        };

        Console.WriteLine($"soak: {options.Workers} workers for {options.Duration} against the gateway emulator on 127.0.0.1 (seed {options.Seed})");
        var report = await SoakEngine.RunAsync(options, Console.Out, interrupt.Token);
        Console.WriteLine();
        Console.Write(report.Format());
        return report.Passed ? 0 : 1;
    }
}
