using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

public class SecretScrubberTests
{
    private const string Secret = "se\"cr\\et/Zz9 +%&=?ü😀";

    private static readonly SecretScrubber Scrubber = SecretScrubber.For(Secret, password: "Grüße-Passwört", basicClientId: null);

    private static IEnumerable<TestCaseData> Spellings()
    {
        yield return new TestCaseData(Secret).SetName("{m}(raw)");
        yield return new TestCaseData(Uri.EscapeDataString(Secret)).SetName("{m}(percent, upper hex)");
        yield return new TestCaseData(LowerHex(Uri.EscapeDataString(Secret))).SetName("{m}(percent, lower hex)");
        yield return new TestCaseData(FormEncoding.Encode(Secret)).SetName("{m}(form encoded)");
        yield return new TestCaseData(Uri.EscapeDataString(Uri.EscapeDataString(Secret))).SetName("{m}(percent encoded twice)");
        yield return new TestCaseData(Json(Secret, JavaScriptEncoder.Default)).SetName("{m}(JSON, default encoder)");
        yield return new TestCaseData(Json(Secret, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)).SetName("{m}(JSON, relaxed encoder)");
        yield return new TestCaseData(LowerHex(Json(Secret, JavaScriptEncoder.Default))).SetName("{m}(JSON, lower-case hex)");
        yield return new TestCaseData(EscapeEveryChar(Secret)).SetName("{m}(JSON, every UTF-16 unit as \\u)");
        yield return new TestCaseData(Json(Secret, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Replace("/", "\\/", StringComparison.Ordinal)).SetName("{m}(JSON, escaped slash)");
        yield return new TestCaseData(Json(Json(Secret, JavaScriptEncoder.Default), JavaScriptEncoder.Default)).SetName("{m}(JSON inside JSON)");
        yield return new TestCaseData(Json(Json(Json(Secret, JavaScriptEncoder.UnsafeRelaxedJsonEscaping), JavaScriptEncoder.UnsafeRelaxedJsonEscaping), JavaScriptEncoder.UnsafeRelaxedJsonEscaping))
            .SetName("{m}(JSON three levels deep)");
        yield return new TestCaseData(System.Net.WebUtility.HtmlEncode(Secret)).SetName("{m}(HTML references)");
        yield return new TestCaseData("se%22cr\\\\et\\/Zz9+%2B%25&=?\\u00FC😀").SetName("{m}(a mixture within one secret)");
    }

    [TestCaseSource(nameof(Spellings))]
    public void Scrub_SecretInAnySpelling_IsMasked(string spelling) =>
        Assert.That(Scrubber.Scrub($"before {spelling} after"), Is.EqualTo("before *** after"));

    [Test]
    public void Scrub_PasswordAndSecretTogether_BothMasked() =>
        Assert.That(Scrubber.Scrub("secret=" + FormEncoding.Encode(Secret) + "&password=Gr\\u00fc\\u00dfe-Passw\\u00F6rt"), Is.EqualTo("secret=***&password=***"));

    [Test]
    public void Scrub_BasicHeaderValue_IsMaskedInBothEncodingsPaddedOrNot()
    {
        var scrubber = SecretScrubber.For("p+ss/w:rd", password: null, basicClientId: "id 1");
        var raw = Convert.ToBase64String(Encoding.UTF8.GetBytes("id 1:p+ss/w:rd"));
        var rfc = Convert.ToBase64String(Encoding.UTF8.GetBytes("id+1:p%2Bss%2Fw%3Ard"));

        Assert.Multiple(() =>
        {
            Assert.That(scrubber.Scrub("Authorization: Basic " + raw), Does.Not.Contain(raw.TrimEnd('=')));
            Assert.That(scrubber.Scrub("Authorization: Basic " + rfc), Does.Not.Contain(rfc.TrimEnd('=')));
            Assert.That(scrubber.Scrub("\"Basic " + rfc.Replace("/", "\\/", StringComparison.Ordinal) + "\""), Does.StartWith("\"Basic ***"));
            Assert.That(scrubber.Scrub(rfc.TrimEnd('=').Replace('+', '-').Replace('/', '_')), Is.EqualTo("***"));
        });
    }

    [Test]
    public void Scrub_TextWithoutSecrets_IsReturnedAsIs()
    {
        const string Text = "Invalid client \\u0022id\\u0022 %41 &amp; se\"cr";

        Assert.That(Scrubber.Scrub(Text), Is.SameAs(Text));
    }

    [Test]
    public void Scrub_SecretThatContainsAnother_IsMaskedWhole()
    {
        var scrubber = SecretScrubber.For("abc", password: "xxabcxx", basicClientId: null);

        Assert.That(scrubber.Scrub("1 xxabcxx 2 abc"), Is.EqualTo("1 *** 2 ***"));
    }

    [Test]
    public void Scrub_LongRunsOfBackslashes_StayBounded()
    {
        var scrubber = SecretScrubber.For(new string('\\', 40), password: null, basicClientId: null);
        var text = new string('\\', 60_000);

        Assert.That(scrubber.Scrub(text), Does.Not.Contain(new string('\\', 40)));
    }

    [Test]
    public void None_ScrubsNothing() => Assert.That(SecretScrubber.None.Scrub(Secret), Is.EqualTo(Secret));

    private static string Json(string value, JavaScriptEncoder encoder)
    {
        var quoted = JsonSerializer.Serialize(value, new JsonSerializerOptions { Encoder = encoder });
        return quoted[1..^1];
    }

    /// <summary>Lower-cases the hex digits of every %XX and \\uXXXX escape, and nothing else.</summary>
    private static string LowerHex(string text) =>
        System.Text.RegularExpressions.Regex.Replace(text, @"(%[0-9A-F]{2}|\\u[0-9A-F]{4})", m => m.Value.ToLowerInvariant());

    private static string EscapeEveryChar(string value)
    {
        var builder = new StringBuilder();
        foreach (var c in value)
        {
            builder.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }
}
