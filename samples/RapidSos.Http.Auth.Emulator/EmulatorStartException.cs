namespace RapidSos.Http.Auth.Emulator;

/// <summary>The emulator could not listen where it was told to: the message names the option and the port.</summary>
internal sealed class EmulatorStartException(string option, int port, IOException inner)
    : Exception($"Cannot listen on 127.0.0.1:{port} ({option}): {inner.Message}", inner);
