using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests.Internal;

/// <summary>
/// The origin rule of <see cref="BearerTokenHandler"/>: scheme, host (without regard to case) and port of the
/// request's URI, nothing else. Each case differs from an allowed origin in one part only, so that it fails if the
/// rule for that part is dropped.
/// </summary>
public class AllowedOriginsTests
{
    private static AllowedOrigins Origins(string baseAddress, params string[] additional)
    {
        var options = new RapidSosAuthOptions { BaseAddress = new Uri(baseAddress) };
        foreach (var origin in additional)
        {
            options.AdditionalOrigins.Add(new Uri(origin));
        }

        return AllowedOrigins.From(options);
    }

    private static bool Matches(AllowedOrigins origins, string uri) => origins.Matches(new Uri(uri, UriKind.RelativeOrAbsolute));

    [Test]
    public void Matches_SameOriginAnyPathAndQuery_IsTrue() =>
        Assert.That(Matches(Origins("https://api.example.com/base/"), "https://api.example.com/other/path?q=1#f"), Is.True);

    // The port is the same (443) and so is the host: only the scheme tells them apart.
    [Test]
    public void Matches_SchemeDiffers_IsFalse() =>
        Assert.That(Matches(Origins("https://api.example.com/"), "http://api.example.com:443/v1"), Is.False);

    [Test]
    public void Matches_PortDiffers_IsFalse() =>
        Assert.That(Matches(Origins("https://api.example.com/"), "https://api.example.com:8443/v1"), Is.False);

    [Test]
    public void Matches_NonDefaultPortOnBoth_IsTrue() =>
        Assert.That(Matches(Origins("https://api.example.com:8443/"), "https://api.example.com:8443/v1"), Is.True);

    [Test]
    public void Matches_NonDefaultPortOnBaseOnly_IsFalse() =>
        Assert.That(Matches(Origins("https://api.example.com:8443/"), "https://api.example.com/v1"), Is.False);

    // The effective port counts, not how it is written.
    [TestCase("https://api.example.com/", "https://api.example.com:443/v1")]
    [TestCase("https://api.example.com:443/", "https://api.example.com/v1")]
    [TestCase("http://localhost/", "http://localhost:80/v1")]
    [TestCase("http://localhost:80/", "http://localhost/v1")]
    public void Matches_DefaultPortExplicitOrImplicit_IsTrue(string baseAddress, string uri) =>
        Assert.That(Matches(Origins(baseAddress), uri), Is.True);

    // Port 80 over https is not the default port: the same host on 443 and on 80 are two origins.
    [Test]
    public void Matches_HttpsOnPort80_IsFalse() =>
        Assert.That(Matches(Origins("https://api.example.com/"), "https://api.example.com:80/v1"), Is.False);

    [Test]
    public void Matches_OtherHost_IsFalse() =>
        Assert.That(Matches(Origins("https://api.example.com/"), "https://api.example.org/v1"), Is.False);

    [Test]
    public void Matches_HostIsSuffixOrPrefix_IsFalse()
    {
        var origins = Origins("https://api.example.com/");
        Assert.Multiple(() =>
        {
            Assert.That(Matches(origins, "https://evil-api.example.com/"), Is.False);
            Assert.That(Matches(origins, "https://api.example.com.evil.test/"), Is.False);
        });
    }

    // Uri lower-cases ASCII hosts itself, but not every script: a Greek host keeps its capitals in Uri.Host, so only
    // a case-insensitive comparison matches it (an ordinal one would refuse the registration's own API).
    [TestCase("https://API.Example.COM/", "https://api.example.com/v1")]
    [TestCase("https://απι.example/", "https://ΑΠΙ.example/v1")]
    [TestCase("https://ΑΠΙ.example/", "https://απι.example/v1")]
    public void Matches_HostInOtherCase_IsTrue(string baseAddress, string uri) =>
        Assert.That(Matches(Origins(baseAddress), uri), Is.True);

    // Uri.Host keeps a Unicode host in Unicode and a punycode host in punycode; the rule compares Uri.Host, so the
    // two spellings of one IDN host are two origins (the token is refused rather than sent to a spelling not configured).
    [TestCase("https://bücher.example/", "https://bücher.example/v1", true)]
    [TestCase("https://xn--bcher-kva.example/", "https://XN--BCHER-KVA.example/v1", true)]
    [TestCase("https://bücher.example/", "https://xn--bcher-kva.example/v1", false)]
    [TestCase("https://xn--bcher-kva.example/", "https://bücher.example/v1", false)]
    [TestCase("https://example.com/", "https://ｅｘａｍｐｌｅ.com/v1", false)]
    public void Matches_IdnHost_ComparesUriHost(string baseAddress, string uri, bool expected) =>
        Assert.That(Matches(Origins(baseAddress), uri), Is.EqualTo(expected));

    [TestCase("http://[::1]:5001/", "http://[::1]:5001/v1", true)]
    [TestCase("http://[::1]:5001/", "http://[0:0:0:0:0:0:0:1]:5001/v1", true)]
    [TestCase("http://[::1]:5001/", "http://[::1]:5002/v1", false)]
    [TestCase("http://[::1]:5001/", "http://127.0.0.1:5001/v1", false)]
    [TestCase("http://[::1]:5001/", "http://localhost:5001/v1", false)]
    public void Matches_Ipv6Loopback(string baseAddress, string uri, bool expected) =>
        Assert.That(Matches(Origins(baseAddress), uri), Is.EqualTo(expected));

    // "api.example.com." names the same DNS host, but Uri keeps the dot and so does the rule: fail closed.
    [TestCase("https://api.example.com/", "https://api.example.com./v1", false)]
    [TestCase("https://api.example.com./", "https://api.example.com/v1", false)]
    [TestCase("https://api.example.com./", "https://api.example.com./v1", true)]
    public void Matches_TrailingDotHost(string baseAddress, string uri, bool expected) =>
        Assert.That(Matches(Origins(baseAddress), uri), Is.EqualTo(expected));

    // User info is not part of the origin: "api.example.com@evil.test" goes to evil.test, and user info in front of
    // the allowed host does not change where the request goes.
    [TestCase("https://api.example.com@evil.test/v1", false)]
    [TestCase("https://api.example.com:443@evil.test/v1", false)]
    [TestCase("https://user:secret@api.example.com/v1", true)]
    [TestCase("https://evil.test@api.example.com/v1", true)]
    public void Matches_UserInfo_IsIgnored(string uri, bool expected) =>
        Assert.That(Matches(Origins("https://api.example.com/"), uri), Is.EqualTo(expected));

    [Test]
    public void Matches_RelativeUri_IsFalse() =>
        Assert.That(Matches(Origins("https://api.example.com/"), "/v1/ping"), Is.False);

    [Test]
    public void Matches_AdditionalOrigins_EachOneCountsWithItsOwnSchemeHostAndPort()
    {
        var origins = Origins("https://api.example.com/", "https://edx.example.com/any/path", "https://other.example.com:8443/", "http://localhost:5000/");
        Assert.Multiple(() =>
        {
            Assert.That(Matches(origins, "https://api.example.com/v1"), Is.True);
            Assert.That(Matches(origins, "https://EDX.example.com/v1"), Is.True);
            Assert.That(Matches(origins, "https://other.example.com:8443/v1"), Is.True);
            Assert.That(Matches(origins, "http://localhost:5000/v1"), Is.True);

            // Each part of an additional origin counts, on its own.
            Assert.That(Matches(origins, "https://other.example.com/v1"), Is.False, "port of an additional origin");
            Assert.That(Matches(origins, "http://edx.example.com:443/v1"), Is.False, "scheme of an additional origin");
            Assert.That(Matches(origins, "https://localhost:5000/v1"), Is.False, "scheme of an additional loopback origin");
            Assert.That(Matches(origins, "https://edx.example.org/v1"), Is.False, "host of an additional origin");

            // A part of one origin does not combine with the parts of another.
            Assert.That(Matches(origins, "https://api.example.com:8443/v1"), Is.False, "host of one origin with the port of another");
        });
    }

    [Test]
    public void Matches_WithoutAdditionalOrigins_OnlyTheBaseAddress()
    {
        var origins = Origins("https://api.example.com/");
        Assert.That(Matches(origins, "https://edx.example.com/v1"), Is.False);
    }

    [Test]
    public void Describe_ListsEveryOriginWithItsPort_BaseFirst()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Origins("https://api.example.com/x").Describe(), Is.EqualTo("https://api.example.com:443"));
            Assert.That(Origins("https://api.example.com/", "https://edx.example.com:8443/p", "http://[::1]:5001/").Describe(),
                Is.EqualTo("https://api.example.com:443, https://edx.example.com:8443, http://[::1]:5001"));
        });
    }

    [TestCase("http://api.example.com/")]
    [TestCase("ftp://api.example.com/")]
    public void From_PlainHttpOffLoopbackOrOtherScheme_IsRefused(string address)
    {
        var ex = Assert.Throws<ArgumentException>(() => Origins(address));
        Assert.That(ex!.Message, Does.Contain("must use https"));
    }

    [Test]
    public void From_RelativeOrNullAdditionalOrigin_IsRefused()
    {
        var options = new RapidSosAuthOptions { BaseAddress = new Uri("https://api.example.com/") };
        options.AdditionalOrigins.Add(new Uri("/relative", UriKind.Relative));
        Assert.That(() => AllowedOrigins.From(options), Throws.ArgumentException.With.Message.Contains("AdditionalOrigins must be an absolute URI"));

        options.AdditionalOrigins[0] = null!;
        Assert.That(() => AllowedOrigins.From(options), Throws.ArgumentException.With.Message.Contains("AdditionalOrigins must be an absolute URI"));
    }
}
