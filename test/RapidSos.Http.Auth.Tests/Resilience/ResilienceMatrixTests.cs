using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Http.Resilience;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Tests.Resilience;

/// <summary>
/// The resilience matrix: Microsoft.Extensions.Http.Resilience's standard handler in every order around the bearer
/// handler and under <c>ConfigureHttpClientDefaults</c>, with its own predicate and with
/// <see cref="RapidSosResilience"/>'s, against the emulator on real Kestrel. Each test prints its row of the table
/// (token requests, API requests, attempts into the bearer handler, outcome, test-clock time) before it asserts.
/// Only counts and exception types are asserted, never durations.
/// </summary>
public class ResilienceMatrixTests
{
    private const string GatewayRefusal = "Client credentials are invalid";

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var order in Enum.GetValues<ResilienceOrder>())
        {
            foreach (var pipeline in Enum.GetValues<MatrixPipeline>())
            {
                yield return new TestCaseData(order, pipeline);
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public async Task WrongSecret_AnyOrder_GatewaysRefusalAtMostOneTokenRequestPerAttempt(ResilienceOrder order, MatrixPipeline pipeline)
    {
        await using var app = await ResilienceApp.StartAsync(order, Configure(pipeline), clientSecret: "not-the-secret");

        var run = await app.CallApiAsync();
        Report("wrong secret", run, order, pipeline);

        Assert.That(run.Error, Is.TypeOf<RapidSosAuthenticationException>(), "the gateway's refusal, not a pipeline timeout");
        Assert.That(run.Error!.Message, Does.Contain(GatewayRefusal));
        Assert.That(run.ApiRequests, Is.Zero);
        Assert.That(run.TokenRequests, Is.LessThanOrEqualTo(run.Attempts), "the back channel must not multiply token requests");
        if (order == ResilienceOrder.BearerFirst || pipeline == MatrixPipeline.WithPredicate)
        {
            Assert.That(run.TokenRequests, Is.EqualTo(1), "a refusal is not retried");
            Assert.That(run.Attempts, Is.EqualTo(1));
        }
    }

    [TestCaseSource(nameof(Cases))]
    public async Task RevokedToken_AnyOrder_OneTokenRequestTwoApiAttempts(ResilienceOrder order, MatrixPipeline pipeline)
    {
        await using var app = await ResilienceApp.StartAsync(order, Configure(pipeline));
        Assert.That((await app.CallApiAsync()).Result, Is.EqualTo("200"));
        app.Gateway.RevokeAllTokens();

        var run = await app.CallApiAsync();
        Report("revoked token", run, order, pipeline);

        Assert.That(run.Result, Is.EqualTo("200"));
        Assert.That(run.TokenRequests, Is.EqualTo(1));
        Assert.That(run.ApiRequests, Is.EqualTo(2));
    }

    [TestCaseSource(nameof(Cases))]
    public async Task HealthProbe_ValidTokenCached_NoTokenRequest(ResilienceOrder order, MatrixPipeline pipeline)
    {
        await using var app = await ResilienceApp.StartAsync(order, Configure(pipeline));
        Assert.That((await app.CallApiAsync()).Result, Is.EqualTo("200"));

        var run = await app.RunAsync(() => ProbeAsync(app));
        Report("probe, token cached", run, order, pipeline);

        Assert.That(run.Result, Is.EqualTo(nameof(HealthStatus.Healthy)));
        Assert.That(run.TokenRequests, Is.Zero);
    }

    [TestCaseSource(nameof(Cases))]
    public async Task HealthProbe_NoTokenEndpointFailing_OneTokenRequest(ResilienceOrder order, MatrixPipeline pipeline)
    {
        await using var app = await ResilienceApp.StartAsync(order, Configure(pipeline));
        app.Gateway.TokenFaultRule = _ => EmulatorFault.Detail(500, "Internal Server Error");

        var run = await app.RunAsync(() => ProbeAsync(app));
        Report("probe, no token, 500", run, order, pipeline);

        Assert.That(run.Result, Is.EqualTo(nameof(HealthStatus.Unhealthy)));
        Assert.That(run.TokenRequests, Is.EqualTo(1), "a probe's token request is not retried on the back channel");
    }

    [TestCaseSource(nameof(Cases))]
    public async Task TooManyRequests_AnyOrder_AtMostOneTokenRequestPerAttempt(ResilienceOrder order, MatrixPipeline pipeline)
    {
        await using var app = await ResilienceApp.StartAsync(order, Configure(pipeline));
        app.Gateway.TokenFaultRule = _ => EmulatorFault.TooManyRequests(TimeSpan.FromSeconds(2));

        var run = await app.CallApiAsync();
        Report("429 Retry-After: 2", run, order, pipeline);

        Assert.That(run.Error, Is.TypeOf<RapidSosAuthenticationException>(), "the gateway's 429, not a pipeline timeout");
        Assert.That(((RapidSosAuthenticationException)run.Error!).StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That(run.TokenRequests, Is.LessThanOrEqualTo(run.Attempts), "the back channel must not multiply token requests");
        if (order == ResilienceOrder.BearerFirst)
        {
            Assert.That(run.TokenRequests, Is.EqualTo(1));
        }
        else if (pipeline == MatrixPipeline.WithPredicate)
        {
            // Each attempt either sends a token request once the window has closed or fails fast inside it, which
            // ends the retries.
            Assert.That(run.Attempts - run.TokenRequests, Is.InRange(0, 1), "an attempt that fails fast inside the Retry-After window ends the retries");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public async Task ServerError_AnyOrder_AtMostOneTokenRequestPerAttempt(ResilienceOrder order, MatrixPipeline pipeline)
    {
        await using var app = await ResilienceApp.StartAsync(order, Configure(pipeline));
        app.Gateway.TokenFaultRule = _ => EmulatorFault.Detail(500, "Internal Server Error");

        var run = await app.CallApiAsync();
        Report("token endpoint 500", run, order, pipeline);

        Assert.That(run.Error, Is.TypeOf<RapidSosAuthenticationException>(), "the gateway's 500, not a pipeline timeout");
        Assert.That(run.TokenRequests, Is.LessThanOrEqualTo(run.Attempts), "the back channel must not multiply token requests");
        if (order == ResilienceOrder.BearerFirst)
        {
            Assert.That(run.TokenRequests, Is.EqualTo(1));
        }
    }

    private static async Task<string> ProbeAsync(ResilienceApp app)
    {
        var report = await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries["rapidsos-token"].Status.ToString();
    }

    private static Action<HttpStandardResilienceOptions>? Configure(MatrixPipeline pipeline) => pipeline switch
    {
        MatrixPipeline.WithPredicate => o => o.Retry.ShouldHandle =
            args => ValueTask.FromResult(RapidSosResilience.IsTransient(args.Outcome.Exception, args.Outcome.Result)),
        _ => null,
    };

    private static void Report(string scenario, MatrixRun run, ResilienceOrder order, MatrixPipeline pipeline) =>
        TestContext.Progress.WriteLine("MATRIX " + run.Row(scenario, order, pipeline.ToString()));
}
