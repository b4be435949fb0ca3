using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RapidSos.Http.Auth.Tests.Integration;

/// <summary>The token never travels to an origin other than the registration's.</summary>
public class TokenBoundaryTests
{
    [TestCase(307)]
    [TestCase(308)]
    [TestCase(302)]
    public async Task Redirect_ToAnotherOrigin_DoesNotCarryTheToken(int status)
    {
        var seenByOther = new ConcurrentQueue<string?>();
        await using var other = await StartAsync(app => app.Run(context =>
        {
            seenByOther.Enqueue(context.Request.Headers.Authorization.ToString());
            return context.Response.WriteAsync("other origin");
        }));
        await using var f = await GatewayFixture.StartAsync();
        f.Gateway.EnqueueApiFault(Testing.EmulatorFault.Redirect(status, new Uri($"{other.Urls.Single()}/steal")));

        using var response = await f.Api.GetAsync("v1/ping");

        Assert.That(seenByOther, Has.Count.EqualTo(1), "the redirect was followed");
        Assert.That(seenByOther.Single(), Is.Empty, "no Authorization header may reach the other origin");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [TestCase("https://evil.example/v1/ping")]
    [TestCase("http://127.0.0.2:1/v1/ping")]
    public async Task RequestUriFromUserInput_PointingElsewhere_FailsBeforeSending(string uri)
    {
        await using var f = await GatewayFixture.StartAsync();

        var ex = Assert.ThrowsAsync<InvalidOperationException>(() => f.Api.GetAsync(uri));

        Assert.That(ex!.Message, Does.Contain("was not sent"));
        Assert.That(f.Gateway.TokenRequestCount, Is.Zero, "not even a token is fetched for a refused request");
    }

    [Test]
    public async Task PathTraversalOnSameOrigin_IsStillTheSameOrigin()
    {
        await using var f = await GatewayFixture.StartAsync();

        using var response = await f.Api.GetAsync("v1/../v1/ping");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    private static async Task<WebApplication> StartAsync(Action<WebApplication> configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        configure(app);
        await app.StartAsync();
        return app;
    }
}
