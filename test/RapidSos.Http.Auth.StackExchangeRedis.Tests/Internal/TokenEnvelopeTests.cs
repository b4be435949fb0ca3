using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using RapidSos.Http.Auth.StackExchangeRedis.Internal;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Internal;

public sealed class TokenEnvelopeTests
{
    private const string Token = "eyJhbGciOiJIUzI1NiJ9.payload.signature";
    private static readonly DateTimeOffset s_expiresAt = new(2031, 5, 6, 7, 8, 9, 123, TimeSpan.Zero);

    private AesGcm _aes = null!;
    private byte[] _key = null!;

    [SetUp]
    public void SetUp()
    {
        _key = RandomNumberGenerator.GetBytes(32);
        _aes = new AesGcm(_key, TokenEnvelope.TagSize);
    }

    [TearDown]
    public void TearDown() => _aes.Dispose();

    [Test]
    public void AssociatedData_IsVersionThenUtf8Key()
    {
        Assert.That(TokenEnvelope.AssociatedData("p:v1:{ab}:tokén"), Is.EqualTo(new byte[] { 1 }.Concat(Encoding.UTF8.GetBytes("p:v1:{ab}:tokén"))));
    }

    [Test]
    public void Seal_Layout_IsVersionNonceCiphertextTag()
    {
        var aad = TokenEnvelope.AssociatedData("k");
        var value = TokenEnvelope.Seal(_aes, aad, Token, s_expiresAt);

        // Decrypted here by hand, from the documented layout, not by TryOpen.
        var plaintext = new byte[value.Length - 1 - 12 - 16];
        _aes.Decrypt(value.AsSpan(1, 12), value.AsSpan(13, plaintext.Length), value.AsSpan(value.Length - 16), plaintext, aad);
        Assert.Multiple(() =>
        {
            Assert.That(value[0], Is.EqualTo(1));
            Assert.That(value, Has.Length.EqualTo(1 + 12 + 8 + Token.Length + 16));
            Assert.That(BinaryPrimitives.ReadInt64BigEndian(plaintext), Is.EqualTo(s_expiresAt.ToUnixTimeMilliseconds()));
            Assert.That(Encoding.UTF8.GetString(plaintext.AsSpan(8)), Is.EqualTo(Token));
        });
    }

    [Test]
    public void TryOpen_SealedForAnotherRedisKey_Misses()
    {
        var value = TokenEnvelope.Seal(_aes, TokenEnvelope.AssociatedData("app:v1:{aa}:token"), Token, s_expiresAt);

        var opened = TokenEnvelope.TryOpen(_aes, TokenEnvelope.AssociatedData("app:v1:{bb}:token"), value, out var token, out _);

        Assert.That((opened, token), Is.EqualTo((false, (string?)null)));
    }

    [Test]
    public void TryOpen_SealedForTheSameRedisKey_Opens()
    {
        var value = TokenEnvelope.Seal(_aes, TokenEnvelope.AssociatedData("app:v1:{aa}:token"), Token, s_expiresAt);

        var opened = TokenEnvelope.TryOpen(_aes, TokenEnvelope.AssociatedData("app:v1:{aa}:token"), value, out var token, out var expiresAt);

        Assert.That((opened, token, expiresAt), Is.EqualTo((true, Token, s_expiresAt)));
    }

    [Test]
    public void TryOpen_AuthenticPlaintextThatIsNotUtf8_Misses()
    {
        var plaintext = new byte[8 + 3];
        BinaryPrimitives.WriteInt64BigEndian(plaintext, s_expiresAt.ToUnixTimeMilliseconds());
        plaintext[8] = (byte)'a';
        plaintext[9] = 0xC3; // the start of a two-byte sequence, then an ASCII byte
        plaintext[10] = (byte)'b';

        Assert.That(TokenEnvelope.TryOpen(_aes, [1], SealRaw(plaintext, [1]), out _, out _), Is.False);
    }

    [TestCase(long.MaxValue)]
    [TestCase(long.MinValue)]
    [TestCase(253402300800000L)]
    public void TryOpen_AuthenticExpiryOutOfRange_Misses(long unixMilliseconds)
    {
        var plaintext = new byte[8 + 1];
        BinaryPrimitives.WriteInt64BigEndian(plaintext, unixMilliseconds);
        plaintext[8] = (byte)'t';

        Assert.That(TokenEnvelope.TryOpen(_aes, [1], SealRaw(plaintext, [1]), out _, out _), Is.False);
    }

    [Test]
    public void TryOpen_AuthenticSmallestValue_Opens()
    {
        var plaintext = new byte[8 + 1];
        BinaryPrimitives.WriteInt64BigEndian(plaintext, 0);
        plaintext[8] = (byte)'t';

        var opened = TokenEnvelope.TryOpen(_aes, [1], SealRaw(plaintext, [1]), out var token, out var expiresAt);

        Assert.That((opened, token, expiresAt), Is.EqualTo((true, "t", DateTimeOffset.UnixEpoch)));
    }

    [Test]
    public void TryOpen_AuthenticValueOverTheLimit_IsRefused()
    {
        // Authentic, so only the size limit can refuse it: Redis may hold anything, and nothing huge is decrypted.
        var plaintext = new byte[TokenEnvelope.MaxSize - 1 - 12 - 16 + 1];
        plaintext.AsSpan(8).Fill((byte)'t');

        Assert.That(TokenEnvelope.TryOpen(_aes, [1], SealRaw(plaintext, [1]), out _, out _), Is.False);
    }

    private byte[] SealRaw(byte[] plaintext, byte[] associatedData)
    {
        var value = new byte[1 + 12 + plaintext.Length + 16];
        value[0] = TokenEnvelope.Version;
        RandomNumberGenerator.Fill(value.AsSpan(1, 12));
        _aes.Encrypt(value.AsSpan(1, 12), plaintext, value.AsSpan(13, plaintext.Length), value.AsSpan(value.Length - 16), associatedData);
        return value;
    }
}
