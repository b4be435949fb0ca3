namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>The token response quirks chosen in <see cref="RapidSosGatewayEmulatorOptions"/>, fixed when the emulator starts.</summary>
internal sealed record TokenFormat(string TokenTypeValue, bool MisspellAccessToken, bool NumbersAsStrings, bool IssuedAtInMilliseconds);
