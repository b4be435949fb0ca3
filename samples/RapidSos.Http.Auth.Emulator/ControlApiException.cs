namespace RapidSos.Http.Auth.Emulator;

/// <summary>A control request the emulator refuses: answered with <see cref="StatusCode"/> and the message, which names the field and never holds a secret.</summary>
internal sealed class ControlApiException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    public static ControlApiException BadRequest(string message) => new(400, message);
}
