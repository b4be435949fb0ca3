using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

public sealed class CanonicalEncodingTests
{
    [Test]
    public void Encode_Fields_AreBigEndianLengthThenUtf8AndAbsentIsAllOnes()
    {
        var encoded = CanonicalEncoding.Encode("ab", null, "", "\u00e9");

        Assert.That(encoded, Is.EqualTo(new byte[]
        {
            0, 0, 0, 2, (byte)'a', (byte)'b',
            0xFF, 0xFF, 0xFF, 0xFF,
            0, 0, 0, 0,
            0, 0, 0, 2, 0xC3, 0xA9,
        }));
    }

    [Test]
    public void Encode_AbsentAndEmpty_Differ()
    {
        Assert.That(CanonicalEncoding.Encode("a", null), Is.Not.EqualTo(CanonicalEncoding.Encode("a", "")));
    }

    [Test]
    public void Encode_SameCharactersSplitDifferently_Differ()
    {
        Assert.Multiple(() =>
        {
            Assert.That(CanonicalEncoding.Encode("ab", "c"), Is.Not.EqualTo(CanonicalEncoding.Encode("a", "bc")));
            Assert.That(CanonicalEncoding.Encode("a\0", "b"), Is.Not.EqualTo(CanonicalEncoding.Encode("a", "\0b")));
            Assert.That(CanonicalEncoding.Encode("a:1", "b"), Is.Not.EqualTo(CanonicalEncoding.Encode("a", "1:b")));
        });
    }

    [Test]
    public void IsWellFormed_NoLoneSurrogate_True()
    {
        Assert.Multiple(() =>
        {
            Assert.That(CanonicalEncoding.IsWellFormed(null), Is.True);
            Assert.That(CanonicalEncoding.IsWellFormed(string.Empty), Is.True);
            Assert.That(CanonicalEncoding.IsWellFormed("plain ascii \u00e9"), Is.True);
            Assert.That(CanonicalEncoding.IsWellFormed("pair \ud83d\ude00 ok"), Is.True);
        });
    }

    // Lone surrogates cannot be attribute arguments (they do not survive the metadata's UTF-8), so they are built here.
    [Test]
    public void IsWellFormed_LoneSurrogate_False()
    {
        string[] values =
        [
            "lone high " + '\ud83d',
            "lone high " + '\ud83d' + " then text",
            "lone low " + '\ude00',
            "reversed " + '\ude00' + '\ud83d',
            '\ud83d' + "\ud83d\ude00",
        ];

        Assert.Multiple(() =>
        {
            foreach (var value in values)
            {
                Assert.That(CanonicalEncoding.IsWellFormed(value), Is.False, $"{value.Length} chars");
            }
        });
    }
}
