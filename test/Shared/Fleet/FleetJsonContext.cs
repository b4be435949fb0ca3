using System.Text.Json.Serialization;

namespace RapidSos.Http.Auth.Tests.Shared.Fleet;

/// <summary>The fleet protocol's JSON, generated at build time: the host writes <see cref="FleetInstanceReport"/> lines, the driver reads them.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, IgnoreReadOnlyProperties = true)]
[JsonSerializable(typeof(FleetInstanceReport))]
internal sealed partial class FleetJsonContext : JsonSerializerContext
{
}
