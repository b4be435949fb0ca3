using RapidSos.Http.Auth.Demo;

// dotnet run --project samples/RapidSos.Http.Auth.Demo            the walkthrough against the gateway emulator
// dotnet run --project samples/RapidSos.Http.Auth.Demo -- --live  a real token from RapidSOS (credentials required)
if (args.Length > 0 && args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: RapidSos.Http.Auth.Demo [--live]");
    Console.WriteLine("  (no arguments)  walk through the package against a local RapidSOS gateway emulator; exit code 0 when every step behaved");
    Console.WriteLine("  --live          fetch a real token; settings RapidSos__ClientId, RapidSos__ClientSecret, RapidSos__BaseAddress,");
    Console.WriteLine("                  RapidSos__TokenEndpoint, RapidSos__GrantType, RapidSos__Username, RapidSos__Password, RapidSos__Scope");
    Console.WriteLine("                  (environment variables) or the same keys as RapidSos:... in dotnet user-secrets");
    return 0;
}

if (args.Length > 0 && args[0] != "--live")
{
    Out.Error($"unknown argument '{args[0]}'; use --live or --help");
    return 2;
}

try
{
    return args.Length > 0
        ? await LiveCheck.RunAsync()
        : await EmulatorWalkthrough.RunAsync() == 0 ? 0 : 1;
}
catch (Exception ex)
{
    // One line, never a stack trace: the demo is the first thing a user runs.
    Out.Error($"{ex.GetType().Name}: {ex.Message}");
    return 1;
}
