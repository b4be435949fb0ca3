using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using RapidSos.Http.Auth.StackExchangeRedis.Internal;
using RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Internal;

public sealed class RedisTokenProtectorTests
{
    private const string Token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYWQtdmVuZG9yLTcifQ.c2lnbmF0dXJlLWJ5dGVz";
    private static readonly DateTimeOffset s_expiresAt = new(2031, 5, 6, 7, 8, 9, 123, TimeSpan.FromHours(-5));
    private static readonly TestCredentials s_user = new();

    // Computed outside .NET (Python's hmac and hashlib, HKDF written out from RFC 5869) from the derivation
    // documented on RedisTokenProtector, so these pin the format every instance of a fleet must agree on.
    private const string UserTokenKey = "rapidsos:auth:v1:{b91cee1e9d0a28445e22164770425d4e7556cdd7e902873acf52a26e811c56b6}:token";
    private const string UserEncryptionKey = "5412a268f3462b51461b8d930fe1648455adb018993924d829b457c5c7c8f61b";
    private const string ClientTokenKey = "rapidsos:auth:v1:{df2adbdf6eb100c15f9652df623bd07f6d2679448243b28c959d93921b878178}:token";

    [Test]
    public void SealThenTryOpen_RoundTrip_ReturnsTheTokenAndItsExpiryToTheMillisecond()
    {
        using var protector = s_user.Protector();

        var opened = protector.TryOpen(protector.Seal(Token, s_expiresAt), out var token, out var expiresAt);

        Assert.Multiple(() =>
        {
            Assert.That(opened, Is.True);
            Assert.That(token, Is.EqualTo(Token));
            Assert.That(expiresAt, Is.EqualTo(s_expiresAt));
            Assert.That(expiresAt.Offset, Is.EqualTo(TimeSpan.Zero));
        });
    }

    [Test]
    public void Seal_SubMillisecondExpiry_IsCutToTheMillisecond()
    {
        using var protector = s_user.Protector();

        protector.TryOpen(protector.Seal(Token, s_expiresAt.AddTicks(9_999)), out _, out var expiresAt);

        Assert.That(expiresAt, Is.EqualTo(s_expiresAt));
    }

    [Test]
    public void Keys_TwoInstancesFromEqualInputs_AreIdenticalAndOpenEachOthersValues()
    {
        using var first = s_user.Protector();
        using var second = (s_user with { }).Protector();

        var opened = second.TryOpen(first.Seal(Token, s_expiresAt), out var token, out _);

        Assert.Multiple(() =>
        {
            Assert.That(second.For(RedisTokenProtector.TokenPurpose), Is.EqualTo(first.For(RedisTokenProtector.TokenPurpose)));
            Assert.That(second.For(RedisTokenProtector.LockPurpose), Is.EqualTo(first.For(RedisTokenProtector.LockPurpose)));
            Assert.That((opened, token), Is.EqualTo((true, Token)));
        });
    }

    [Test]
    public void For_KnownInputs_MatchesTheDocumentedDerivation()
    {
        using var user = s_user.Protector();
        using var client = TestCredentials.ClientCredentials.Protector();

        Assert.Multiple(() =>
        {
            Assert.That(user.For(RedisTokenProtector.TokenPurpose).ToString(), Is.EqualTo(UserTokenKey));
            Assert.That(client.For(RedisTokenProtector.TokenPurpose).ToString(), Is.EqualTo(ClientTokenKey));
        });
    }

    [Test]
    public void Seal_KnownInputs_OpensWithTheDocumentedKeyLayoutAndAssociatedData()
    {
        using var protector = s_user.Protector();
        var value = protector.Seal(Token, s_expiresAt);

        using var aes = new AesGcm(Convert.FromHexString(UserEncryptionKey), 16);
        var plaintext = new byte[value.Length - 29];
        aes.Decrypt(value.AsSpan(1, 12), value.AsSpan(13, plaintext.Length), value.AsSpan(value.Length - 16), plaintext, [1, .. Encoding.UTF8.GetBytes(UserTokenKey)]);

        Assert.Multiple(() =>
        {
            Assert.That(BinaryPrimitives.ReadInt64BigEndian(plaintext), Is.EqualTo(s_expiresAt.ToUnixTimeMilliseconds()));
            Assert.That(Encoding.UTF8.GetString(plaintext.AsSpan(8)), Is.EqualTo(Token));
        });
    }

    [Test]
    public void For_Purposes_ShareOneHashTagAndDiffer()
    {
        using var protector = s_user.Protector();

        var token = protector.For(RedisTokenProtector.TokenPurpose).ToString();
        var lockKey = protector.For(RedisTokenProtector.LockPurpose).ToString();

        Assert.Multiple(() =>
        {
            Assert.That(token, Does.Match(@"^rapidsos:auth:v1:\{[0-9a-f]{64}\}:token$"));
            Assert.That(lockKey, Is.EqualTo(token[..^"token".Length] + "lock"));
        });
    }

    [TestCase("")]
    [TestCase("Token")]
    [TestCase("to ken")]
    [TestCase("token:x")]
    [TestCase("{token}")]
    public void For_PurposeOutsideLowercaseDigitsAndDash_Throws(string purpose)
    {
        using var protector = s_user.Protector();

        Assert.That(() => protector.For(purpose), Throws.ArgumentException);
    }

    [Test]
    public void For_PurposeOfLowercaseDigitsAndDash_IsAppended()
    {
        using var protector = s_user.Protector();

        Assert.That(protector.For("last-401-2").ToString(), Does.EndWith("}:last-401-2"));
    }

    [Test]
    public void Seal_SameTokenTwice_UsesAFreshNonceEachTime()
    {
        using var protector = s_user.Protector();

        var first = protector.Seal(Token, s_expiresAt);
        var second = protector.Seal(Token, s_expiresAt);

        Assert.That(second.AsSpan(1, 12).SequenceEqual(first.AsSpan(1, 12)), Is.False);
    }

    [TestCase("version", 0)]
    [TestCase("nonce", 1)]
    [TestCase("nonce", 12)]
    [TestCase("expiry", 13)]
    [TestCase("ciphertext", 21)]
    [TestCase("ciphertext", -17)]
    [TestCase("tag", -16)]
    [TestCase("tag", -1)]
    public void TryOpen_OneBitFlipped_Misses(string region, int index)
    {
        using var protector = s_user.Protector();
        var value = protector.Seal(Token, s_expiresAt);
        value[index < 0 ? value.Length + index : index] ^= 0x01;

        var opened = protector.TryOpen(value, out var token, out var expiresAt);

        Assert.That((opened, token, expiresAt), Is.EqualTo((false, (string?)null, default(DateTimeOffset))), region);
    }

    public static IEnumerable<TestCaseData> OtherCredentials()
    {
        yield return new TestCaseData("client secret", s_user with { ClientSecret = s_user.ClientSecret + "2" }).SetArgDisplayNames("client secret");
        yield return new TestCaseData("user", s_user with { Username = "supervisor@agency.example" }).SetArgDisplayNames("user");
        yield return new TestCaseData("password", s_user with { Password = s_user.Password + "!" }).SetArgDisplayNames("password");
        yield return new TestCaseData("scope", s_user with { Scope = "alerts admin" }).SetArgDisplayNames("scope");
        yield return new TestCaseData("no scope", s_user with { Scope = null }).SetArgDisplayNames("no scope");
        yield return new TestCaseData("empty scope", s_user with { Scope = string.Empty }).SetArgDisplayNames("empty scope");
        yield return new TestCaseData("endpoint", s_user with { TokenEndpoint = new Uri("https://gateway.example/oauth/v3/token") }).SetArgDisplayNames("endpoint");
        yield return new TestCaseData("client id", s_user with { ClientId = "cad-vendor-8" }).SetArgDisplayNames("client id");
        yield return new TestCaseData("grant", s_user with { GrantType = RapidSosGrantType.ClientCredentials }).SetArgDisplayNames("grant");
        yield return new TestCaseData("key prefix", s_user with { KeyPrefix = "other-app:" }).SetArgDisplayNames("key prefix");
        yield return new TestCaseData("user and password moved", s_user with { Username = s_user.Username + s_user.Password![..1], Password = s_user.Password[1..] }).SetArgDisplayNames("user and password moved");
    }

    [TestCaseSource(nameof(OtherCredentials))]
    public void OtherCredentials_GetAnotherKeyAndCannotOpenTheValue(string difference, TestCredentials other)
    {
        using var protector = s_user.Protector();
        using var otherProtector = other.Protector();

        var value = protector.Seal(Token, s_expiresAt);

        Assert.Multiple(() =>
        {
            Assert.That(otherProtector.For(RedisTokenProtector.TokenPurpose), Is.Not.EqualTo(protector.For(RedisTokenProtector.TokenPurpose)), difference);
            Assert.That(otherProtector.For(RedisTokenProtector.LockPurpose), Is.Not.EqualTo(protector.For(RedisTokenProtector.LockPurpose)), difference);
            Assert.That(otherProtector.TryOpen(value, out _, out _), Is.False, difference);
            Assert.That(protector.TryOpen(otherProtector.Seal(Token, s_expiresAt), out _, out _), Is.False, difference);
        });
    }

    [TestCaseSource(nameof(Secrets))]
    public void KeysAndValues_HoldNoSpellingOfASecretOrTheToken(string what)
    {
        using var protector = s_user.Protector();
        var haystacks = new Dictionary<string, byte[]>
        {
            ["token key"] = Encoding.UTF8.GetBytes(protector.For(RedisTokenProtector.TokenPurpose).ToString()),
            ["lock key"] = Encoding.UTF8.GetBytes(protector.For(RedisTokenProtector.LockPurpose).ToString()),
            ["value"] = protector.Seal(Token, s_expiresAt),
        };
        var secret = what switch
        {
            "client secret" => s_user.ClientSecret,
            "password" => s_user.Password!,
            "user" => s_user.Username!,
            _ => Token,
        };

        Assert.Multiple(() =>
        {
            foreach (var (name, haystack) in haystacks)
            {
                Assert.That(Spellings.FindIn(haystack, secret), Is.Null, $"the {what} in the {name}");
            }
        });
    }

    public static IEnumerable<string> Secrets() => ["client secret", "password", "user", "token"];

    [Test]
    public void Spellings_FindIn_FindsEachSpellingItLooksFor()
    {
        // The leak test above is only as good as its search: check the search finds what it claims to.
        var secret = s_user.ClientSecret;
        var bytes = Encoding.UTF8.GetBytes(secret);
        Assert.Multiple(() =>
        {
            Assert.That(Spellings.FindIn(Encoding.UTF8.GetBytes("x" + secret[2..12] + "y"), secret), Does.StartWith("raw"));
            Assert.That(Spellings.FindIn(Encoding.UTF8.GetBytes("x" + Convert.ToHexString(bytes)), secret), Is.Not.Null);
            Assert.That(Spellings.FindIn(Encoding.UTF8.GetBytes(Convert.ToHexString(bytes).ToLowerInvariant()), secret), Is.Not.Null);
            for (var offset = 0; offset < 3; offset++)
            {
                var base64 = Convert.ToBase64String([.. RandomNumberGenerator.GetBytes(offset), .. bytes, 7]);
                Assert.That(Spellings.FindIn(Encoding.UTF8.GetBytes(base64), secret), Does.StartWith("base64"), $"offset {offset}");
            }

            Assert.That(Spellings.FindIn(RandomNumberGenerator.GetBytes(64), secret), Is.Null);
        });
    }

    [Test]
    public void TryOpen_EveryTruncation_Misses()
    {
        using var protector = s_user.Protector();
        var value = protector.Seal(Token, s_expiresAt);

        Assert.Multiple(() =>
        {
            for (var length = 0; length < value.Length; length++)
            {
                Assert.That(protector.TryOpen(value[..length], out _, out _), Is.False, $"{length} of {value.Length} bytes");
            }
        });
    }

    [TestCase((byte)0)]
    [TestCase((byte)2)]
    [TestCase((byte)255)]
    public void TryOpen_AnotherVersion_Misses(byte version)
    {
        using var protector = s_user.Protector();
        var value = protector.Seal(Token, s_expiresAt);
        value[0] = version;

        Assert.That(protector.TryOpen(value, out _, out _), Is.False);
    }

    public static IEnumerable<TestCaseData> Garbage()
    {
        yield return new TestCaseData("null", null);
        yield return new TestCaseData("empty", Array.Empty<byte>());
        yield return new TestCaseData("the version alone", new byte[] { 1 });
        yield return new TestCaseData("text", "not a token envelope, just a string someone SET here"u8.ToArray());
        yield return new TestCaseData("random after the version", new byte[] { 1 }.Concat(RandomNumberGenerator.GetBytes(200)).ToArray());
        yield return new TestCaseData("zeros after the version", new byte[] { 1 }.Concat(new byte[200]).ToArray());
        yield return new TestCaseData("huge", new byte[] { 1 }.Concat(RandomNumberGenerator.GetBytes(TokenEnvelope.MaxSize)).ToArray());
        yield return new TestCaseData("64 MiB", new byte[64 << 20]);
    }

    [TestCaseSource(nameof(Garbage))]
    public void TryOpen_ValueThatIsNotOurs_MissesWithoutThrowing(string what, byte[]? value)
    {
        using var protector = s_user.Protector();

        var opened = protector.TryOpen(value, out var token, out var expiresAt);

        Assert.That((opened, token, expiresAt), Is.EqualTo((false, (string?)null, default(DateTimeOffset))), what);
    }

    [Test]
    public void Seal_LongestToken_FillsTheLargestValueAndOpens()
    {
        using var protector = s_user.Protector();
        var token = new string('t', TokenEnvelope.MaxTokenBytes);

        var value = protector.Seal(token, s_expiresAt);

        Assert.Multiple(() =>
        {
            Assert.That(value, Has.Length.EqualTo(TokenEnvelope.MaxSize));
            Assert.That(protector.TryOpen(value, out var opened, out _), Is.True);
            Assert.That(opened, Is.EqualTo(token));
        });
    }

    [Test]
    public void Seal_TokenTooLongToStore_ThrowsWithoutTheToken()
    {
        using var protector = s_user.Protector();
        var token = "secret-token-" + new string('t', TokenEnvelope.MaxTokenBytes);

        Assert.That(() => protector.Seal(token, s_expiresAt), Throws.ArgumentException.With.Message.Not.Contain("secret-token"));
    }

    [Test]
    public void Seal_EmptyToken_Throws()
    {
        using var protector = s_user.Protector();

        Assert.That(() => protector.Seal(string.Empty, s_expiresAt), Throws.ArgumentException);
    }

    [Test]
    public void Seal_TokenWithALoneSurrogate_ThrowsWithoutTheToken()
    {
        using var protector = s_user.Protector();

        Assert.That(() => protector.Seal("secret-token-" + '\ud800', s_expiresAt), Throws.ArgumentException.With.Message.Not.Contain("secret-token"));
    }

    [Test]
    public void Dispose_ThenSeal_Throws()
    {
        var protector = s_user.Protector();
        protector.Dispose();

        Assert.That(() => protector.Seal(Token, s_expiresAt), Throws.TypeOf<ObjectDisposedException>());
    }

    [Test]
    public void Dispose_ThenTryOpen_MissesAValueThatOpenedBefore()
    {
        var protector = s_user.Protector();
        var value = protector.Seal(Token, s_expiresAt);
        Assert.That(protector.TryOpen(value, out _, out _), Is.True);

        protector.Dispose();
        protector.Dispose();

        Assert.That(protector.TryOpen(value, out _, out _), Is.False);
    }

    public static IEnumerable<TestCaseData> BadInputs()
    {
        yield return new TestCaseData("empty client secret", s_user with { ClientSecret = string.Empty }).SetArgDisplayNames("empty client secret");
        yield return new TestCaseData("empty client id", s_user with { ClientId = string.Empty }).SetArgDisplayNames("empty client id");
        yield return new TestCaseData("empty key prefix", s_user with { KeyPrefix = string.Empty }).SetArgDisplayNames("empty key prefix");
        yield return new TestCaseData("relative endpoint", s_user with { TokenEndpoint = new Uri("oauth/token", UriKind.Relative) }).SetArgDisplayNames("relative endpoint");
        yield return new TestCaseData("undefined grant", s_user with { GrantType = (RapidSosGrantType)7 }).SetArgDisplayNames("undefined grant");
        yield return new TestCaseData("lone surrogate in the secret", s_user with { ClientSecret = "secret-" + '\udc00' }).SetArgDisplayNames("lone surrogate in the secret");
        yield return new TestCaseData("lone surrogate in the password", s_user with { Password = "secret-" + '\ud800' }).SetArgDisplayNames("lone surrogate in the password");
    }

    [TestCaseSource(nameof(BadInputs))]
    public void Constructor_BadInput_ThrowsArgumentExceptionWithoutTheSecret(string what, TestCredentials credentials)
    {
        Assert.That(() => credentials.Protector(), Throws.InstanceOf<ArgumentException>().With.Message.Not.Contain("secret-"), what);
    }
}
