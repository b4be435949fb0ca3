namespace RapidSos.Http.Auth;

/// <summary>
/// Base addresses of the public RapidSOS environments.
/// </summary>
public static class RapidSosEnvironment
{
    /// <summary>
    /// The sandbox, <c>https://api-sandbox.rapidsos.com/</c>: the environment integration partners get.
    /// </summary>
    public static Uri Sandbox { get; } = new("https://api-sandbox.rapidsos.com/", UriKind.Absolute);

    /// <summary>
    /// Production, <c>https://api.rapidsos.com/</c>.
    /// </summary>
    public static Uri Production { get; } = new("https://api.rapidsos.com/", UriKind.Absolute);
}
