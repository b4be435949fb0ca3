namespace RapidSos.Http.Auth.Emulator;

/// <summary>A command line the emulator cannot run: the message names the argument, and never shows a secret.</summary>
internal sealed class UsageException(string message) : Exception(message);
