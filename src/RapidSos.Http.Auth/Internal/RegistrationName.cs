namespace RapidSos.Http.Auth.Internal;

/// <summary>How a registration is named where people read it: the default one (named "") as <c>(default)</c>, not as <c>''</c>.</summary>
internal static class RegistrationName
{
    public const string Default = "(default)";

    public static string Display(string name) => name.Length == 0 ? Default : name;
}
