using System.Text;
using RapidSos.Http.Auth.Testing.Internal;

namespace RapidSos.Http.Auth.Testing.Tests.Internal;

public sealed class FormBodyTests
{
    [TestCase("a=x+y", "x y")]
    [TestCase("a=x%2By", "x+y")]
    [TestCase("a=%C3%A9%26%3D%25", "é&=%")]
    [TestCase("a=", "")]
    [TestCase("a", "")]
    [TestCase("a=b=c", "b=c")]
    [TestCase("a=%zz", "%zz")]
    [TestCase("&&a=1&&", "1")]
    public void Parse_EncodedValue_DecodesAsForms(string body, string expected)
    {
        var fields = FormBody.Parse(Encoding.UTF8.GetBytes(body), out var repeated);

        Assert.Multiple(() =>
        {
            Assert.That(fields["a"], Is.EqualTo(expected));
            Assert.That(repeated, Is.Null);
        });
    }

    [Test]
    public void Parse_RepeatedField_JoinsValuesAndReportsIt()
    {
        var fields = FormBody.Parse("a=1&b=2&a=3"u8, out var repeated);

        Assert.Multiple(() =>
        {
            Assert.That(fields["a"], Is.EqualTo("1,3"));
            Assert.That(repeated, Is.EqualTo("a"));
        });
    }

    [Test]
    public async Task Parse_FormUrlEncodedContentOutput_RoundTrips()
    {
        const string Secret = "p@ss&word=+% é/?#";
        using var content = new FormUrlEncodedContent([new("client_secret", Secret)]);
        var body = await content.ReadAsByteArrayAsync();

        var fields = FormBody.Parse(body, out _);

        Assert.That(fields["client_secret"], Is.EqualTo(Secret));
    }

    [TestCase("application/x-www-form-urlencoded", true)]
    [TestCase("application/x-www-form-urlencoded; charset=utf-8", true)]
    [TestCase("APPLICATION/X-WWW-FORM-URLENCODED", true)]
    [TestCase("application/json", false)]
    [TestCase("multipart/form-data; boundary=x", false)]
    [TestCase(null, false)]
    [TestCase("", false)]
    public void IsForm_ContentType_RecognisesFormMediaType(string? contentType, bool expected)
    {
        Assert.That(FormBody.IsForm(contentType), Is.EqualTo(expected));
    }
}
