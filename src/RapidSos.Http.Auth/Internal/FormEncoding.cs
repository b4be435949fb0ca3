namespace RapidSos.Http.Auth.Internal;

/// <summary>application/x-www-form-urlencoded, as <see cref="FormUrlEncodedContent"/> writes it: UTF-8, percent-encoded, '+' for a space.</summary>
internal static class FormEncoding
{
    public static string Encode(string value) => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal);
}
