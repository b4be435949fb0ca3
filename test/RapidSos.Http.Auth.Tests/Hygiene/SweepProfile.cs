namespace RapidSos.Http.Auth.Tests.Hygiene;

/// <summary>
/// One generated credential set of the secret sweep: a client id with reserved characters (no ':', which Basic
/// authentication cannot carry), a client secret, a password and a token the gateway pretends to issue, each
/// <c>specials + unique core + specials</c> with specials drawn from what JSON and URLs escape.
/// </summary>
internal sealed record SweepProfile(string Name, string ClientId, string Username, SweepSecret ClientSecret, SweepSecret Password, SweepSecret Token)
{
    private const string Alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const int CoreLength = 16;

    // What surrounds the cores: quote, backslash, slash, + % & = ?, space, non-ASCII, outside the BMP, everything
    // at once, and text that looks like an escape sequence itself.
    private static readonly (string Name, string Before, string After)[] s_specials =
    [
        ("quote-backslash", "\"\\", "\\\""),
        ("slash", "/", "//"),
        ("url-reserved", "+%&=?", "?=&%+"),
        ("space", "a b ", " c d"),
        ("non-ascii", "üß", "öÜ"),
        ("outside-bmp", "🚑", "x😀"),
        ("everything", "\"\\/+%&=? üß🚑", "🚑ö ?=&%+/\\\""),
        ("escape-lookalikes", "\\u0041%41\\/&amp;", "&#252;<'>\\\\"),
    ];

    /// <summary>The sweep's profiles: generated from a fixed seed, so every run sweeps the same secrets.</summary>
    public static IReadOnlyList<SweepProfile> All { get; } = Generate();

    /// <summary>Every secret of the profile, as the oracle searches for them.</summary>
    public IReadOnlyList<SweepSecret> Secrets => [ClientSecret, Password, Token];

    public static SweepProfile Named(string name) => All.Single(p => p.Name == name);

    public override string ToString() => Name;

    private static List<SweepProfile> Generate()
    {
        var random = new Random(20261127);
        var cores = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        string NewCore()
        {
            string core;
            do
            {
                core = new string(Enumerable.Range(0, CoreLength).Select(_ => Alphanumerics[random.Next(Alphanumerics.Length)]).ToArray());
            }
            while (!cores.Add(core));
            return core;
        }

        // A token must be visible ASCII to be parsed at all (the library refuses anything else before looking further).
        static string Ascii(string specials)
        {
            var ascii = new string(specials.Where(c => c is > ' ' and < '\u007f').ToArray());
            return ascii.Length == 0 ? "\"\\/+%&=?" : ascii;
        }

        var profiles = new List<SweepProfile>();
        foreach (var (name, before, after) in s_specials)
        {
            string secretCore = NewCore(), passwordCore = NewCore(), tokenCore = NewCore();
            profiles.Add(new SweepProfile(
                name,
                ClientId: $"sweep {name} +/ü=?&%",
                Username: "dispatcher+sweep@psap.example",
                new SweepSecret("client secret", before + secretCore + after, secretCore),
                new SweepSecret("password", after + passwordCore + before, passwordCore),
                new SweepSecret("token", Ascii(before) + tokenCore + Ascii(after), tokenCore)));
        }

        return profiles;
    }
}
