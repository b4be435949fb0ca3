namespace RapidSos.Http.Auth.Tests.Hygiene;

/// <summary>
/// What one echo case puts into a body: one secret (the request field it came from and its value) in one
/// spelling, plus the token the gateway pretends to issue, ready for each kind of body.
/// </summary>
internal sealed class EchoText
{
    /// <summary>
    /// Begins every echo: alphanumeric, so no spelling changes it. In an unknown shape it must appear nowhere,
    /// since no text of an unknown shape may reach a message.
    /// </summary>
    public const string Marker = "zqEchoMarker7";

    public EchoText(EchoSpelling spelling, string field, string value, string token)
    {
        Field = field;
        Text = $"{Marker} rejected {field}={spelling.Wire(value)}";
        Json = $"{Marker} rejected {field}={spelling.InJson(value)}";
        FieldJson = $"\"{field}\":\"{spelling.InJson(value)}\"";
        Form = $"note={Marker}&{field}={spelling.Wire(value)}";
        Header = $"{field}: {spelling.Wire(value)}";
        Token = spelling.InJson(token);
    }

    /// <summary>The request field the secret came from: client_secret, password or Authorization.</summary>
    public string Field { get; }

    /// <summary>A sentence with the secret, as text.</summary>
    public string Text { get; }

    /// <summary>The same sentence as the content of a JSON string.</summary>
    public string Json { get; }

    /// <summary>The secret as a JSON member, <c>"field":"value"</c>.</summary>
    public string FieldJson { get; }

    /// <summary>The secret as a form body, <c>note=marker&amp;field=value</c>.</summary>
    public string Form { get; }

    /// <summary>The secret as an HTTP header line, <c>field: value</c>.</summary>
    public string Header { get; }

    /// <summary>The token as the content of a JSON string, for token responses.</summary>
    public string Token { get; }
}
