namespace RapidSos.Http.Auth.Internal;

/// <summary>URLs as the library shows them in messages and logs: without user information, query or fragment.</summary>
internal static class DisplayUri
{
    public static Uri Of(Uri uri) =>
        IsHttp(uri)
            ? new Uri(uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped), UriKind.Absolute)
            : Uri.TryCreate(OfText(uri.OriginalString), UriKind.RelativeOrAbsolute, out var shown) ? shown : new Uri("(not shown)", UriKind.Relative);

    /// <summary>
    /// A URL as configured, which may not parse (<c>htps://id:secret@host</c>) or may be of a scheme whose parser
    /// keeps '?' in the path: cut at its query or fragment first; then an http(s) URL is shown as <see cref="Of(Uri)"/>,
    /// and anything else with whatever precedes an '@' in its authority masked.
    /// </summary>
    public static string OfText(string text)
    {
        var cut = text.IndexOfAny(['?', '#']);
        var shown = cut < 0 ? text : text[..cut];
        if (Uri.TryCreate(shown, UriKind.Absolute, out var uri) && IsHttp(uri))
        {
            return Of(uri).ToString();
        }

        var schemeEnd = shown.IndexOf("://", StringComparison.Ordinal);
        var authorityStart = schemeEnd < 0 ? 0 : schemeEnd + 3;
        var slash = shown.IndexOfAny(['/', '\\'], authorityStart);
        var authorityEnd = slash < 0 ? shown.Length : slash;
        var at = authorityEnd > authorityStart ? shown.LastIndexOf('@', authorityEnd - 1, authorityEnd - authorityStart) : -1;
        return at < 0 ? shown : string.Concat(shown.AsSpan(0, authorityStart), "***", shown.AsSpan(at));
    }

    private static bool IsHttp(Uri uri) => uri.IsAbsoluteUri && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
}
