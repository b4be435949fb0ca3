namespace RapidSos.Http.Auth.Internal;

/// <summary>URLs as the library shows them in messages and logs: without user information, query or fragment.</summary>
internal static class DisplayUri
{
    public static Uri Of(Uri uri) =>
        IsHttp(uri) && !uri.OriginalString.Contains('@', StringComparison.Ordinal)
            ? new Uri(uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped), UriKind.Absolute)
            : Uri.TryCreate(OfText(uri.OriginalString), UriKind.RelativeOrAbsolute, out var shown) ? shown : new Uri("(not shown)", UriKind.Relative);

    /// <summary>
    /// A URL as configured, which may not parse (<c>htps://id:secret@host</c>), or may parse with the password in its
    /// host or path (<c>https://id:pa/ss@host</c>: a '/', '\', '#' or '?' in a password ends the authority early).
    /// Whatever precedes the last '@' after the scheme is masked, wherever that '@' is (a path with an '@' in it is
    /// masked too: safe); then the rest is cut at its query or fragment, and an http(s) URL is shown by its parts.
    /// </summary>
    public static string OfText(string text)
    {
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        var authorityStart = schemeEnd < 0 ? (text.StartsWith(@"\\", StringComparison.Ordinal) ? 2 : 0) : schemeEnd + 3;
        if (schemeEnd < 0 && text.IndexOf(@":\\", StringComparison.Ordinal) is var backslashes and >= 0)
        {
            authorityStart = backslashes + 3;
        }

        var at = text.LastIndexOf('@');
        var masked = at >= authorityStart ? string.Concat(text.AsSpan(0, authorityStart), "***", text.AsSpan(at)) : text;
        var cut = masked.IndexOfAny(['?', '#'], at >= authorityStart ? authorityStart + 3 : authorityStart);
        var shown = cut < 0 ? masked : masked[..cut];
        if (Uri.TryCreate(shown, UriKind.Absolute, out var uri) && IsHttp(uri))
        {
            return uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        }

        return shown;
    }

    private static bool IsHttp(Uri uri) => uri.IsAbsoluteUri && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
}
