using System.Text.Json;
using RapidSos.Http.Auth.Emulator.Contracts;

namespace RapidSos.Http.Auth.Emulator.Tests;

/// <summary>Every kind of fault the control API's JSON describes, mapped onto the EmulatorFault factory of that name.</summary>
public sealed class FaultBuilderTests
{
    [TestCase("""{"status":503}""", "Status(503)")]
    [TestCase("""{"status":503,"body":"down","contentType":"text/plain"}""", "Status(503)")]
    [TestCase("""{"kind":"status","status":500}""", "Status(500)")]
    [TestCase("""{"status":503,"retryAfter":2,"body":"...","stall":"3s"}""", "Status(503).WithRetryAfter(2s).WithLatency(00:00:03)")]
    [TestCase("""{"kind":"detail","status":500,"detail":"Internal server error"}""", "Detail(500)")]
    [TestCase("""{"kind":"invalidClient"}""", "InvalidClient()")]
    [TestCase("""{"kind":"InvalidClient"}""", "InvalidClient()")]
    [TestCase("""{"kind":"tooManyRequests"}""", "TooManyRequests()")]
    [TestCase("""{"kind":"tooManyRequests","retryAfter":"2s"}""", "TooManyRequests()")]
    [TestCase("""{"kind":"apigeeFault","status":429,"faultstring":"Spike arrest violation","errorcode":"policies.ratelimit.SpikeArrestViolation"}""", "Fault(429, policies.ratelimit.SpikeArrestViolation)")]
    [TestCase("""{"kind":"oauthError","status":400,"error":"invalid_grant","errorDescription":"expired"}""", "OAuthError(400, invalid_grant)")]
    [TestCase("""{"kind":"html","status":502}""", "Html(502)")]
    [TestCase("""{"kind":"empty","status":503,"retryAfter":1.5}""", "Empty(503).WithRetryAfter(2s)")]
    [TestCase("""{"kind":"redirect","status":307,"location":"https://elsewhere.example/"}""", "Redirect(307, https://elsewhere.example/)")]
    [TestCase("""{"kind":"malformedJson"}""", "MalformedJson()")]
    [TestCase("""{"kind":"connectionReset"}""", "ConnectionReset()")]
    [TestCase("""{"kind":"connectionReset","stall":"250ms"}""", "ConnectionReset().WithLatency(00:00:00.2500000)")]
    [TestCase("""{"stall":"3s"}""", "Stall(00:00:03)")]
    [TestCase("""{"kind":"stall","stall":2}""", "Stall(00:00:02)")]
    [TestCase("""{"kind":"stall","stall":"infinite"}""", "Stall(Infinite)")]
    public void Build_Request_MapsOntoEmulatorFault(string json, string expected)
    {
        var (fault, count) = FaultBuilder.Build(Read(json));

        Assert.Multiple(() =>
        {
            Assert.That(fault.ToString(), Is.EqualTo(expected));
            Assert.That(count, Is.EqualTo(1));
        });
    }

    [Test]
    public void Build_TooManyRequestsWithRetryAfter_UsesTheFactorysHeaderNotACopy()
    {
        // TooManyRequests(retryAfter) carries the header itself; WithRetryAfter on top would be a second way to say it.
        var (fault, _) = FaultBuilder.Build(Read("""{"kind":"tooManyRequests","retryAfter":"2s"}"""));

        Assert.That(fault.ToString(), Does.Not.Contain("WithRetryAfter"));
    }

    [Test]
    public void Build_Count_IsReturned()
    {
        Assert.That(FaultBuilder.Build(Read("""{"status":503,"count":3}""")).Count, Is.EqualTo(3));
    }

    [TestCase("{}", "Give a \"kind\"")]
    [TestCase("""{"kind":"teapot"}""", "Unknown \"kind\" 'teapot'; use one of status, detail")]
    [TestCase("""{"kind":"html"}""", "kind html needs a \"status\"")]
    [TestCase("""{"kind":"detail","status":500}""", "kind detail needs \"detail\"")]
    [TestCase("""{"kind":"apigeeFault","status":500,"faultstring":"x"}""", "kind apigeeFault needs \"errorcode\"")]
    [TestCase("""{"kind":"oauthError","status":400}""", "kind oauthError needs \"error\"")]
    [TestCase("""{"kind":"redirect","status":307}""", "kind redirect needs \"location\"")]
    [TestCase("""{"kind":"redirect","status":200,"location":"https://x.example/"}""", "\"status\" must be from 300 to 399, not 200")]
    [TestCase("""{"kind":"redirect","status":302,"location":"/relative"}""", "\"location\" must be an absolute http or https URI, not '/relative'")]
    [TestCase("""{"status":199}""", "\"status\" must be from 200 to 599, not 199")]
    [TestCase("""{"status":600}""", "\"status\" must be from 200 to 599, not 600")]
    [TestCase("""{"kind":"html","status":502,"detail":"x"}""", "\"detail\" does not apply to kind html")]
    [TestCase("""{"kind":"invalidClient","status":401}""", "\"status\" does not apply to kind invalidClient")]
    [TestCase("""{"kind":"tooManyRequests","body":"x"}""", "\"body\" does not apply to kind tooManyRequests")]
    [TestCase("""{"kind":"connectionReset","retryAfter":1}""", "\"retryAfter\" does not apply to kind connectionReset (it sends no answer")]
    [TestCase("""{"stall":"3s","retryAfter":1}""", "\"retryAfter\" does not apply to kind stall")]
    [TestCase("""{"status":503,"contentType":"text/plain"}""", "\"contentType\" needs a \"body\"")]
    [TestCase("""{"kind":"stall"}""", "kind stall needs \"stall\"")]
    [TestCase("""{"status":503,"stall":"infinite"}""", "\"stall\" must be seconds as a number, or a duration")]
    [TestCase("""{"stall":"-1s"}""", "\"stall\" must be seconds as a number, or a duration such as 250ms, 90s, 2m, 1h or plain seconds, or \"infinite\"; not \"-1s\"")]
    [TestCase("""{"stall":-1}""", "\"stall\" must be seconds as a number")]
    [TestCase("""{"stall":true}""", "\"stall\" must be seconds as a number")]
    [TestCase("""{"stall":"25h"}""", "\"stall\" must be at most 24h, not \"25h\"")]
    [TestCase("""{"status":429,"retryAfter":"soon"}""", "\"retryAfter\" must be seconds as a number, or a duration")]
    [TestCase("""{"status":503,"count":0}""", "\"count\" must be from 1 to 1000, not 0")]
    [TestCase("""{"status":503,"count":1001}""", "\"count\" must be from 1 to 1000, not 1001")]
    public void Build_BadRequest_ThrowsNamingTheField(string json, string expected)
    {
        Assert.That(
            () => FaultBuilder.Build(Read(json)),
            Throws.InstanceOf<ControlApiException>()
                .With.Property(nameof(ControlApiException.StatusCode)).EqualTo(400)
                .And.Message.Contains(expected));
    }

    private static FaultRequest Read(string json) => JsonSerializer.Deserialize(json, ControlJsonContext.Default.FaultRequest)!;
}
