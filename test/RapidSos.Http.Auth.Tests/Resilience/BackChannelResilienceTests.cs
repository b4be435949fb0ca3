using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Tests.Resilience;

/// <summary>The two ways the README gives to choose resilience around token requests, end to end on Kestrel.</summary>
public class BackChannelResilienceTests
{
    [Test]
    public async Task TokenClient_StandardResilienceConfiguredForItsName_RetriesTheTokenRequest()
    {
        await using var app = await ResilienceApp.StartAsync(
            ResilienceOrder.BearerFirst,
            pipeline: null,
            tokenClient: b => b.AddStandardResilienceHandler());
        app.Gateway.TokenFaultRule = _ => EmulatorFault.Detail(500, "Internal Server Error");

        var run = await app.CallApiAsync();

        Assert.That(run.Error, Is.TypeOf<RapidSosAuthenticationException>());
        Assert.That(((RapidSosAuthenticationException)run.Error!).StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
        Assert.That(run.Attempts, Is.EqualTo(1));
        Assert.That(run.TokenRequests, Is.EqualTo(4), "the back channel's own pipeline: the request and its three retries");
    }

    [Test]
    public async Task ClientDefaults_PredicateThroughConfigureAll_RefusalNotRetried()
    {
        // An Aspire app whose service defaults call AddStandardResilienceHandler() with no options, and which sets the
        // predicate for every standard pipeline without editing them.
        await using var app = await ResilienceApp.StartAsync(
            ResilienceOrder.ClientDefaults,
            pipeline: null,
            clientSecret: "not-the-secret",
            services: s => s.ConfigureAll<HttpStandardResilienceOptions>(o => o.Retry.ShouldHandle =
                args => ValueTask.FromResult(RapidSosResilience.IsTransient(args.Outcome.Exception, args.Outcome.Result))));

        var run = await app.CallApiAsync();

        Assert.That(run.Error, Is.TypeOf<RapidSosAuthenticationException>());
        Assert.That(((RapidSosAuthenticationException)run.Error!).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(run.TokenRequests, Is.EqualTo(1));
        Assert.That(run.Attempts, Is.EqualTo(1), "a refusal ends the retries");
    }
}
