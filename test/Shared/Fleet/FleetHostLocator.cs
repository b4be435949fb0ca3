using System.Reflection;
using System.Runtime.InteropServices;

namespace RapidSos.Http.Auth.Tests.Shared.Fleet;

/// <summary>
/// Where the fleet host's assembly and the <c>dotnet</c> that runs it are. The host's path is recorded at build
/// time (FleetHost.targets asks the host project for its target path and writes it into an assembly attribute of
/// the driver's assembly), so it follows any output layout; <c>RAPIDSOS_FLEET_HOST</c> overrides it.
/// </summary>
internal static class FleetHostLocator
{
    /// <summary>The environment variable that names the host's assembly explicitly.</summary>
    public const string HostVariable = "RAPIDSOS_FLEET_HOST";

    /// <summary>The assembly metadata key FleetHost.targets writes.</summary>
    public const string MetadataKey = "RapidSos.FleetHostPath";

    private const string HostFileName = "RapidSos.Http.Auth.FleetHost.dll";

    /// <summary>The host's assembly.</summary>
    /// <exception cref="InvalidOperationException">It is not where it was built, nor named by <see cref="HostVariable"/>.</exception>
    public static string HostPath()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(HostVariable) is { Length: > 0 } named)
        {
            candidates.Add(named);
        }

        candidates.AddRange(typeof(FleetHostLocator).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Where(a => a.Key == MetadataKey && !string.IsNullOrEmpty(a.Value))
            .Select(a => a.Value!));
        candidates.Add(Path.Combine(AppContext.BaseDirectory, HostFileName));

        return candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException(
                $"The fleet host ({HostFileName}) is not built. Looked in: {string.Join(", ", candidates)}. Build the project that " +
                $"drives the fleet (it references test/RapidSos.Http.Auth.FleetHost), or set {HostVariable} to the host's assembly.");
    }

    /// <summary>The <c>dotnet</c> executable that runs this process, or the first on the PATH.</summary>
    public static string DotnetPath()
    {
        var executable = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "dotnet.exe" : "dotnet";
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.ProcessPath is { } current && string.Equals(Path.GetFileName(current), executable, StringComparison.OrdinalIgnoreCase))
        {
            return current;
        }

        // The shared runtime lives in <dotnet root>/shared/Microsoft.NETCore.App/<version>/.
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var besideRuntime = Path.Combine(root, executable);
        return File.Exists(besideRuntime) ? besideRuntime : executable;
    }
}
