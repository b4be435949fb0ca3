using System.Runtime.InteropServices;
using RapidSos.Http.Auth.Emulator;

// dotnet run --project samples/RapidSos.Http.Auth.Emulator -- --help
// The logic is in EmulatorCommand, which tests run in-process; this file only turns Ctrl+C and SIGTERM into a stop.
using var stop = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
return await EmulatorCommand.RunAsync(args, Console.Out, Console.Error, stop.Token);
