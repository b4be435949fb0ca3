using System.Text.Json.Serialization;

namespace RapidSos.Http.Auth.Emulator.Contracts;

/// <summary>
/// Source-generated System.Text.Json metadata for every control API body: no reflection, so the host stays trim- and
/// AOT-clean. Names are camelCase; requests match them case-insensitively and refuse unknown fields.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(FaultRequest))]
[JsonSerializable(typeof(ClientRequest))]
[JsonSerializable(typeof(UserRequest))]
[JsonSerializable(typeof(SettingsRequest))]
[JsonSerializable(typeof(SettingsResponse))]
[JsonSerializable(typeof(CountersResponse))]
[JsonSerializable(typeof(RevokeResponse))]
[JsonSerializable(typeof(RejectResponse))]
[JsonSerializable(typeof(FaultsResponse))]
[JsonSerializable(typeof(CredentialResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(IndexResponse))]
[JsonSerializable(typeof(EndpointInfo))]
internal sealed partial class ControlJsonContext : JsonSerializerContext;
