namespace RapidSos.Http.Auth.Internal;

/// <summary>URLs as the library shows them in messages and logs: without user information, query or fragment.</summary>
internal static class DisplayUri
{
    public static Uri Of(Uri uri) =>
        uri.IsAbsoluteUri
            ? new Uri(uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped), UriKind.Absolute)
            : uri;
}
