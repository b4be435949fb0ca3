namespace RapidSos.Http.Auth.Tests.Hygiene;

/// <summary>
/// One secret of the sweep: characters that JSON and URLs escape around an alphanumeric core that no encoding
/// changes, so every unscrubbed spelling of the secret but Base64 (and a JSON escape of every character) shows
/// the core literally.
/// </summary>
/// <param name="Role">What the secret is: "client secret", "password" or "token".</param>
/// <param name="Value">The secret as configured or issued.</param>
/// <param name="Core">The unique alphanumeric run inside <paramref name="Value"/> that the oracle searches for.</param>
internal sealed record SweepSecret(string Role, string Value, string Core)
{
    public override string ToString() => $"{Role} ({Core})";
}
