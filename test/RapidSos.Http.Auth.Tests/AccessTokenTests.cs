namespace RapidSos.Http.Auth.Tests;

public class AccessTokenTests
{
    [Test]
    public void ToString_NeverShowsValue()
    {
        var token = new AccessToken("eyJhbGciOiJIUzI1NiJ9.secret-part.sig", new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

        Assert.That(token.ToString(), Does.Not.Contain("secret-part"));
        Assert.That(token.ToString(), Does.Contain("2030-01-01"));
    }

    [TestCase("abc\r\nX-Injected: 1", "line break")]
    [TestCase("abc\ndef", "line break")]
    [TestCase("tök-en", "non-ASCII")]
    [TestCase("two words", "space or control")]
    [TestCase("", "empty")]
    public void Constructor_ValueUnfitForHeader_ThrowsWithoutShowingValue(string value, string problem)
    {
        var ex = Assert.Throws<ArgumentException>(() => _ = new AccessToken(value, DateTimeOffset.MaxValue));

        Assert.That(ex!.Message, Does.Contain(problem));
        if (value.Length > 0)
        {
            Assert.That(ex.Message, Does.Not.Contain(value));
        }
    }

    [Test]
    public void Constructor_NullValue_Throws() =>
        Assert.Throws<ArgumentNullException>(() => _ = new AccessToken(null!, DateTimeOffset.MaxValue));

    [Test]
    public void HeaderValue_IsBearerWithToken()
    {
        var token = new AccessToken("abc.DEF-123_~+/=", DateTimeOffset.MaxValue);

        Assert.That(token.HeaderValue.Scheme, Is.EqualTo("Bearer"));
        Assert.That(token.HeaderValue.ToString(), Is.EqualTo("Bearer abc.DEF-123_~+/="));
    }
}
