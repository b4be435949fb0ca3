using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

public sealed class SealedEnvelopeTests
{
    private static readonly byte[] s_payload = Encoding.UTF8.GetBytes("eyJhbGciOiJIUzI1NiJ9.payload.signature");
    private static readonly DateTimeOffset s_issuedAt = new(2031, 5, 6, 6, 8, 9, 123, TimeSpan.Zero);
    private static readonly DateTimeOffset s_expiresAt = new(2031, 5, 6, 7, 8, 9, 123, TimeSpan.Zero);

    private AesGcm _aes = null!;

    [SetUp]
    public void SetUp() => _aes = new AesGcm(RandomNumberGenerator.GetBytes(32), SealedEnvelope.TagSize);

    [TearDown]
    public void TearDown() => _aes.Dispose();

    [Test]
    public void AssociatedData_IsVersionThenUtf8Key()
    {
        Assert.That(SealedEnvelope.AssociatedData("v1:{ab}:tokén"), Is.EqualTo(new byte[] { 1 }.Concat(Encoding.UTF8.GetBytes("v1:{ab}:tokén"))));
    }

    [Test]
    public void Seal_Layout_IsVersionNonceCiphertextTag()
    {
        var aad = SealedEnvelope.AssociatedData("k");
        var value = SealedEnvelope.Seal(_aes, aad, s_issuedAt, s_expiresAt, s_payload);

        // Decrypted here by hand, from the documented layout, not by TryOpen.
        var plaintext = new byte[value.Length - 1 - 12 - 16];
        _aes.Decrypt(value.AsSpan(1, 12), value.AsSpan(13, plaintext.Length), value.AsSpan(value.Length - 16), plaintext, aad);
        Assert.Multiple(() =>
        {
            Assert.That(value[0], Is.EqualTo(1));
            Assert.That(value, Has.Length.EqualTo(1 + 12 + 16 + s_payload.Length + 16));
            Assert.That(BinaryPrimitives.ReadInt64BigEndian(plaintext), Is.EqualTo(s_issuedAt.ToUnixTimeMilliseconds()));
            Assert.That(BinaryPrimitives.ReadInt64BigEndian(plaintext.AsSpan(8)), Is.EqualTo(s_expiresAt.ToUnixTimeMilliseconds()));
            Assert.That(plaintext.AsSpan(16).ToArray(), Is.EqualTo(s_payload));
        });
    }

    [Test]
    public void TryOpen_SealedForTheSameKey_ReturnsTimesAndPayload()
    {
        var value = SealedEnvelope.Seal(_aes, SealedEnvelope.AssociatedData("v1:{aa}:token"), s_issuedAt, s_expiresAt, s_payload);

        var opened = SealedEnvelope.TryOpen(_aes, SealedEnvelope.AssociatedData("v1:{aa}:token"), value, out var issuedAt, out var expiresAt, out var payload);

        Assert.That((opened, issuedAt, expiresAt, Encoding.UTF8.GetString(payload)), Is.EqualTo((true, s_issuedAt, s_expiresAt, Encoding.UTF8.GetString(s_payload))));
    }

    [TestCase("v1:{bb}:token")]
    [TestCase("v1:{aa}:refusal")]
    public void TryOpen_SealedForAnotherKey_Misses(string otherKey)
    {
        var value = SealedEnvelope.Seal(_aes, SealedEnvelope.AssociatedData("v1:{aa}:token"), s_issuedAt, s_expiresAt, s_payload);

        var opened = SealedEnvelope.TryOpen(_aes, SealedEnvelope.AssociatedData(otherKey), value, out _, out _, out var payload);

        Assert.That((opened, payload.Length), Is.EqualTo((false, 0)));
    }

    [TestCase(long.MaxValue)]
    [TestCase(long.MinValue)]
    [TestCase(253402300800000L)]
    public void TryOpen_AuthenticTimeOutOfRange_Misses(long unixMilliseconds)
    {
        var plaintext = new byte[16 + 1];
        BinaryPrimitives.WriteInt64BigEndian(plaintext, 0);
        BinaryPrimitives.WriteInt64BigEndian(plaintext.AsSpan(8), unixMilliseconds);
        plaintext[16] = (byte)'t';

        Assert.That(SealedEnvelope.TryOpen(_aes, [1], SealRaw(plaintext, [1]), out _, out _, out _), Is.False);
    }

    [Test]
    public void TryOpen_AuthenticSmallestValue_Opens()
    {
        var opened = SealedEnvelope.TryOpen(_aes, [1], SealRaw(new byte[16], [1]), out var issuedAt, out var expiresAt, out var payload);

        Assert.That((opened, issuedAt, expiresAt, payload.Length), Is.EqualTo((true, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 0)));
    }

    [Test]
    public void TryOpen_AuthenticValueOverTheLimit_IsRefused()
    {
        // Authentic, so only the size limit can refuse it: a store may hold anything, and nothing huge is decrypted.
        var plaintext = new byte[SealedEnvelope.MaxSize - 1 - 12 - 16 + 1];

        Assert.That(SealedEnvelope.TryOpen(_aes, [1], SealRaw(plaintext, [1]), out _, out _, out _), Is.False);
    }

    [Test]
    public void Seal_PayloadOverTheLimit_Throws()
    {
        Assert.That(() => SealedEnvelope.Seal(_aes, [1], s_issuedAt, s_expiresAt, new byte[SealedEnvelope.MaxPayloadBytes + 1]), Throws.ArgumentException);
    }

    private byte[] SealRaw(byte[] plaintext, byte[] associatedData)
    {
        var value = new byte[1 + 12 + plaintext.Length + 16];
        value[0] = SealedEnvelope.Version;
        RandomNumberGenerator.Fill(value.AsSpan(1, 12));
        _aes.Encrypt(value.AsSpan(1, 12), plaintext, value.AsSpan(13, plaintext.Length), value.AsSpan(value.Length - 16), associatedData);
        return value;
    }
}
