using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using RapidSos.Http.Auth.Internal;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests.Internal;

public sealed class SharedTokenProtectorTests
{
    private const string Token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYWQtdmVuZG9yLTcifQ.c2lnbmF0dXJlLWJ5dGVz";
    private static readonly DateTimeOffset s_issuedAt = new(2031, 5, 6, 6, 8, 9, 123, TimeSpan.Zero);
    private static readonly DateTimeOffset s_expiresAt = new(2031, 5, 6, 7, 8, 9, 123, TimeSpan.FromHours(-5));
    private static readonly SharedStoreCredentials s_user = new();

    // Computed outside .NET (Python's hmac and hashlib, HKDF written out from RFC 5869) from the derivation
    // documented on SharedTokenProtector, so these pin the format every instance of a fleet must agree on.
    private const string UserTokenKey = "v1:{b91cee1e9d0a28445e22164770425d4e7556cdd7e902873acf52a26e811c56b6}:token";
    private const string UserEncryptionKey = "5412a268f3462b51461b8d930fe1648455adb018993924d829b457c5c7c8f61b";
    private const string ClientTokenKey = "v1:{df2adbdf6eb100c15f9652df623bd07f6d2679448243b28c959d93921b878178}:token";

    [Test]
    public void SealThenTryOpen_RoundTrip_ReturnsTheTokenAndItsExpiryToTheMillisecond()
    {
        using var protector = s_user.Protector();

        var opened = protector.TryOpenToken(protector.SealToken(Token, s_issuedAt, s_expiresAt), out var token, out _, out var expiresAt);

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

        protector.TryOpenToken(protector.SealToken(Token, s_issuedAt, s_expiresAt.AddTicks(9_999)), out _, out _, out var expiresAt);

        Assert.That(expiresAt, Is.EqualTo(s_expiresAt));
    }

    [Test]
    public void Keys_TwoInstancesFromEqualInputs_AreIdenticalAndOpenEachOthersValues()
    {
        using var first = s_user.Protector();
        using var second = (s_user with { }).Protector();

        var opened = second.TryOpenToken(first.SealToken(Token, s_issuedAt, s_expiresAt), out var token, out _, out _);

        Assert.Multiple(() =>
        {
            Assert.That(second.For(SharedTokenProtector.TokenPurpose), Is.EqualTo(first.For(SharedTokenProtector.TokenPurpose)));
            Assert.That(second.For(SharedTokenProtector.LockPurpose), Is.EqualTo(first.For(SharedTokenProtector.LockPurpose)));
            Assert.That((opened, token), Is.EqualTo((true, Token)));
        });
    }

    [Test]
    public void For_KnownInputs_MatchesTheDocumentedDerivation()
    {
        using var user = s_user.Protector();
        using var client = SharedStoreCredentials.ClientCredentials.Protector();

        Assert.Multiple(() =>
        {
            Assert.That(user.For(SharedTokenProtector.TokenPurpose).ToString(), Is.EqualTo(UserTokenKey));
            Assert.That(client.For(SharedTokenProtector.TokenPurpose).ToString(), Is.EqualTo(ClientTokenKey));
        });
    }

    [Test]
    public void Seal_KnownInputs_OpensWithTheDocumentedKeyLayoutAndAssociatedData()
    {
        using var protector = s_user.Protector();
        var value = protector.SealToken(Token, s_issuedAt, s_expiresAt);

        using var aes = new AesGcm(Convert.FromHexString(UserEncryptionKey), 16);
        var plaintext = new byte[value.Length - 29];
        aes.Decrypt(value.AsSpan(1, 12), value.AsSpan(13, plaintext.Length), value.AsSpan(value.Length - 16), plaintext, [1, .. Encoding.UTF8.GetBytes(UserTokenKey)]);

        Assert.Multiple(() =>
        {
            Assert.That(BinaryPrimitives.ReadInt64BigEndian(plaintext), Is.EqualTo(s_issuedAt.ToUnixTimeMilliseconds()));
            Assert.That(BinaryPrimitives.ReadInt64BigEndian(plaintext.AsSpan(8)), Is.EqualTo(s_expiresAt.ToUnixTimeMilliseconds()));
            Assert.That(Encoding.UTF8.GetString(plaintext.AsSpan(16)), Is.EqualTo(Token));
        });
    }

    [Test]
    public void For_Purposes_ShareOneHashTagAndDiffer()
    {
        using var protector = s_user.Protector();

        var token = protector.For(SharedTokenProtector.TokenPurpose).ToString();
        var lockKey = protector.For(SharedTokenProtector.LockPurpose).ToString();

        Assert.Multiple(() =>
        {
            Assert.That(token, Does.Match(@"^v1:\{[0-9a-f]{64}\}:token$"));
            Assert.That(lockKey, Is.EqualTo(token[..^"token".Length] + "lock"));
            Assert.That(protector.TokenKey, Is.EqualTo(token));
            Assert.That(protector.LockKey, Is.EqualTo(lockKey));
            Assert.That(protector.RefusalKey, Is.EqualTo(token[..^"token".Length] + "refusal"));
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

        var first = protector.SealToken(Token, s_issuedAt, s_expiresAt);
        var second = protector.SealToken(Token, s_issuedAt, s_expiresAt);

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
        var value = protector.SealToken(Token, s_issuedAt, s_expiresAt);
        value[index < 0 ? value.Length + index : index] ^= 0x01;

        var opened = protector.TryOpenToken(value, out var token, out _, out var expiresAt);

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
        yield return new TestCaseData("user and password moved", s_user with { Username = s_user.Username + s_user.Password![..1], Password = s_user.Password[1..] }).SetArgDisplayNames("user and password moved");
    }

    [TestCaseSource(nameof(OtherCredentials))]
    public void OtherCredentials_GetAnotherKeyAndCannotOpenTheValue(string difference, SharedStoreCredentials other)
    {
        using var protector = s_user.Protector();
        using var otherProtector = other.Protector();

        var value = protector.SealToken(Token, s_issuedAt, s_expiresAt);

        Assert.Multiple(() =>
        {
            Assert.That(otherProtector.For(SharedTokenProtector.TokenPurpose), Is.Not.EqualTo(protector.For(SharedTokenProtector.TokenPurpose)), difference);
            Assert.That(otherProtector.For(SharedTokenProtector.LockPurpose), Is.Not.EqualTo(protector.For(SharedTokenProtector.LockPurpose)), difference);
            Assert.That(otherProtector.TryOpenToken(value, out _, out _, out _), Is.False, difference);
            Assert.That(protector.TryOpenToken(otherProtector.SealToken(Token, s_issuedAt, s_expiresAt), out _, out _, out _), Is.False, difference);
        });
    }

    [TestCaseSource(nameof(Secrets))]
    public void KeysAndValues_HoldNoSpellingOfASecretOrTheToken(string what)
    {
        using var protector = s_user.Protector();
        var haystacks = new Dictionary<string, byte[]>
        {
            ["token key"] = Encoding.UTF8.GetBytes(protector.For(SharedTokenProtector.TokenPurpose).ToString()),
            ["lock key"] = Encoding.UTF8.GetBytes(protector.For(SharedTokenProtector.LockPurpose).ToString()),
            ["value"] = protector.SealToken(Token, s_issuedAt, s_expiresAt),
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
        var value = protector.SealToken(Token, s_issuedAt, s_expiresAt);

        Assert.Multiple(() =>
        {
            for (var length = 0; length < value.Length; length++)
            {
                Assert.That(protector.TryOpenToken(value[..length], out _, out _, out _), Is.False, $"{length} of {value.Length} bytes");
            }
        });
    }

    [TestCase((byte)0)]
    [TestCase((byte)2)]
    [TestCase((byte)255)]
    public void TryOpen_AnotherVersion_Misses(byte version)
    {
        using var protector = s_user.Protector();
        var value = protector.SealToken(Token, s_issuedAt, s_expiresAt);
        value[0] = version;

        Assert.That(protector.TryOpenToken(value, out _, out _, out _), Is.False);
    }

    public static IEnumerable<TestCaseData> Garbage()
    {
        yield return new TestCaseData("null", null);
        yield return new TestCaseData("empty", Array.Empty<byte>());
        yield return new TestCaseData("the version alone", new byte[] { 1 });
        yield return new TestCaseData("text", "not a token envelope, just a string someone SET here"u8.ToArray());
        yield return new TestCaseData("random after the version", new byte[] { 1 }.Concat(RandomNumberGenerator.GetBytes(200)).ToArray());
        yield return new TestCaseData("zeros after the version", new byte[] { 1 }.Concat(new byte[200]).ToArray());
        yield return new TestCaseData("huge", new byte[] { 1 }.Concat(RandomNumberGenerator.GetBytes(SealedEnvelope.MaxSize)).ToArray());
        yield return new TestCaseData("64 MiB", new byte[64 << 20]);
    }

    [TestCaseSource(nameof(Garbage))]
    public void TryOpen_ValueThatIsNotOurs_MissesWithoutThrowing(string what, byte[]? value)
    {
        using var protector = s_user.Protector();

        var opened = protector.TryOpenToken(value, out var token, out _, out var expiresAt);

        Assert.That((opened, token, expiresAt), Is.EqualTo((false, (string?)null, default(DateTimeOffset))), what);
    }

    [Test]
    public void Seal_LongestToken_FillsTheLargestValueAndOpens()
    {
        using var protector = s_user.Protector();
        var token = new string('t', SealedEnvelope.MaxPayloadBytes);

        var value = protector.SealToken(token, s_issuedAt, s_expiresAt);

        Assert.Multiple(() =>
        {
            Assert.That(value, Has.Length.EqualTo(SealedEnvelope.MaxSize));
            Assert.That(protector.TryOpenToken(value, out var opened, out _, out _), Is.True);
            Assert.That(opened, Is.EqualTo(token));
        });
    }

    [Test]
    public void Seal_TokenTooLongToStore_ThrowsWithoutTheToken()
    {
        using var protector = s_user.Protector();
        var token = "secret-token-" + new string('t', SealedEnvelope.MaxPayloadBytes);

        Assert.That(() => protector.SealToken(token, s_issuedAt, s_expiresAt), Throws.ArgumentException.With.Message.Not.Contain("secret-token"));
    }

    [Test]
    public void Seal_EmptyToken_Throws()
    {
        using var protector = s_user.Protector();

        Assert.That(() => protector.SealToken(string.Empty, s_issuedAt, s_expiresAt), Throws.ArgumentException);
    }

    [Test]
    public void Seal_TokenWithALoneSurrogate_ThrowsWithoutTheToken()
    {
        using var protector = s_user.Protector();

        Assert.That(() => protector.SealToken("secret-token-" + '\ud800', s_issuedAt, s_expiresAt), Throws.ArgumentException.With.Message.Not.Contain("secret-token"));
    }

    [Test]
    public void Dispose_ThenSeal_Throws()
    {
        var protector = s_user.Protector();
        protector.Dispose();

        Assert.That(() => protector.SealToken(Token, s_issuedAt, s_expiresAt), Throws.TypeOf<ObjectDisposedException>());
    }

    [Test]
    public void Dispose_ThenTryOpen_MissesAValueThatOpenedBefore()
    {
        var protector = s_user.Protector();
        var value = protector.SealToken(Token, s_issuedAt, s_expiresAt);
        Assert.That(protector.TryOpenToken(value, out _, out _, out _), Is.True);

        protector.Dispose();
        protector.Dispose();

        Assert.That(protector.TryOpenToken(value, out _, out _, out _), Is.False);
    }

    public static IEnumerable<TestCaseData> BadInputs()
    {
        yield return new TestCaseData("empty client secret", s_user with { ClientSecret = string.Empty }).SetArgDisplayNames("empty client secret");
        yield return new TestCaseData("empty client id", s_user with { ClientId = string.Empty }).SetArgDisplayNames("empty client id");
        yield return new TestCaseData("relative endpoint", s_user with { TokenEndpoint = new Uri("oauth/token", UriKind.Relative) }).SetArgDisplayNames("relative endpoint");
        yield return new TestCaseData("undefined grant", s_user with { GrantType = (RapidSosGrantType)7 }).SetArgDisplayNames("undefined grant");
        yield return new TestCaseData("lone surrogate in the secret", s_user with { ClientSecret = "secret-" + '\udc00' }).SetArgDisplayNames("lone surrogate in the secret");
        yield return new TestCaseData("lone surrogate in the password", s_user with { Password = "secret-" + '\ud800' }).SetArgDisplayNames("lone surrogate in the password");
    }

    [TestCaseSource(nameof(BadInputs))]
    public void Constructor_BadInput_ThrowsArgumentExceptionWithoutTheSecret(string what, SharedStoreCredentials credentials)
    {
        Assert.That(() => credentials.Protector(), Throws.InstanceOf<ArgumentException>().With.Message.Not.Contain("secret-"), what);
    }

    [Test]
    public void SealRefusalThenTryOpenRefusal_RoundTrip_KeepsEveryField()
    {
        using var protector = s_user.Protector();
        var refusal = new SharedRefusal(s_issuedAt, s_expiresAt, 3, System.Net.HttpStatusCode.TooManyRequests, "The gateway answered 429.", "Too many requests");

        var opened = protector.TryOpenRefusal(protector.SealRefusal(refusal), out var read);

        Assert.That((opened, read), Is.EqualTo((true, refusal)));
    }

    [Test]
    public void TryOpenRefusal_ATokenValue_Misses()
    {
        using var protector = s_user.Protector();

        Assert.Multiple(() =>
        {
            Assert.That(protector.TryOpenRefusal(protector.SealToken(Token, s_issuedAt, s_expiresAt), out _), Is.False);
            Assert.That(protector.TryOpenToken(protector.SealRefusal(new SharedRefusal(s_issuedAt, s_expiresAt, 1, null, "m", null)), out _, out _, out _), Is.False);
        });
    }

    [Test]
    public void SealRefusal_RefusalOfOtherCredentials_DoesNotOpen()
    {
        using var protector = s_user.Protector();
        using var other = (s_user with { ClientSecret = "another" }).Protector();

        Assert.That(other.TryOpenRefusal(protector.SealRefusal(new SharedRefusal(s_issuedAt, s_expiresAt, 1, null, "m", null)), out _), Is.False);
    }
}
