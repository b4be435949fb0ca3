using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Tests.Helpers;

namespace RapidSos.Http.Auth.Tests;

/// <summary><see cref="HttpClient.Send(HttpRequestMessage)"/> callers: exporters and legacy code.</summary>
public class SynchronousPathTests
{
    private static HttpClient Client(ProviderHarness h, RecordingApiHandler api)
    {
        var handler = h.Services.GetRequiredService<BearerTokenHandler>();
        handler.InnerHandler = api;
        return new HttpClient(handler) { BaseAddress = new Uri("https://api.test.example/") };
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a thread whose SynchronizationContext never runs what is posted to it:
    /// any continuation that needs that context (sync-over-async) deadlocks, and the test fails on the timeout.
    /// </summary>
    private static void OnSingleThreadedContext(Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            SynchronizationContext.SetSynchronizationContext(new NeverPumpedContext());
            try
            {
                action();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        Assert.That(thread.Join(TimeSpan.FromSeconds(30)), Is.True, "the synchronous call deadlocked");
        if (failure is not null)
        {
            throw failure;
        }
    }

    [Test]
    public void Send_ColdCacheOnSingleThreadedContext_FetchesSynchronouslyWithoutDeadlock()
    {
        using var h = new ProviderHarness();
        var api = new RecordingApiHandler();
        using var client = Client(h, api);
        HttpStatusCode? status = null;

        OnSingleThreadedContext(() =>
        {
            using var response = client.Send(new HttpRequestMessage(HttpMethod.Get, "v1/ping"));
            status = response.StatusCode;
        });

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
        Assert.That(h.Endpoint.SynchronousSends, Is.EqualTo(1), "the token is fetched with the back channel's synchronous Send");
        Assert.That(api.Sends.Single().Authorization, Is.EqualTo("Bearer token-1"));
    }

    [Test]
    public void Send_UnauthorizedOnSingleThreadedContext_RefreshesSynchronouslyAndResendsBody()
    {
        using var h = new ProviderHarness();
        var api = new RecordingApiHandler();
        api.RejectedTokens.Add("token-1");
        using var client = Client(h, api);
        HttpStatusCode? status = null;

        OnSingleThreadedContext(() =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/echo") { Content = new StreamContent(new ReadOnceStream([4, 5, 6])) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            using var response = client.Send(request);
            status = response.StatusCode;
        });

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));
        Assert.That(h.Endpoint.SynchronousSends, Is.EqualTo(2));
        Assert.That(api.Sends.Select(s => s.Body), Has.All.EqualTo(new byte[] { 4, 5, 6 }));
    }

    [Test]
    public async Task Send_WhileAsyncFetchInFlight_SharesTheSingleFlight()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Hold();
        var asyncCaller = h.Provider.GetTokenAsync().AsTask();
        await h.Endpoint.WaitForRequestsAsync(1);
        var sync = (RapidSos.Http.Auth.Internal.ISyncTokenProvider)h.Provider;
        AccessToken? fromSync = null;

        var syncCaller = new Thread(() => fromSync = sync.GetToken(CancellationToken.None));
        syncCaller.Start();

        // The synchronous caller's only blocking wait is on the request it joins (or, were it to send its own, on the
        // held stub, which the request count would show): once it blocks, it is waiting on the shared flight.
        await Poll.UntilAsync(() => (syncCaller.ThreadState & ThreadState.WaitSleepJoin) != 0, "the synchronous caller to block on the held request");
        Assert.That(fromSync, Is.Null, "nothing completes while the stub holds the request");
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1), "the synchronous caller joined the request under way instead of sending its own");
        h.Endpoint.Release();
        Assert.That(syncCaller.Join(TimeSpan.FromSeconds(30)), Is.True);

        Assert.That(fromSync, Is.SameAs(await asyncCaller));
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
    }

    [Test]
    public void Send_CachedToken_UsesItWithoutRequest()
    {
        using var h = new ProviderHarness();
        var api = new RecordingApiHandler();
        using var client = Client(h, api);

        client.Send(new HttpRequestMessage(HttpMethod.Get, "v1/ping")).Dispose();
        client.Send(new HttpRequestMessage(HttpMethod.Get, "v1/ping")).Dispose();

        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(1));
        Assert.That(api.Sends.Select(s => s.Authorization), Has.All.EqualTo("Bearer token-1"));
    }

    [Test]
    public void Send_TokenEndpointFails_ThrowsAuthenticationExceptionAndSendsNothing()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Respond = (_, _) => StubTokenEndpoint.Json(HttpStatusCode.BadRequest, """{"detail":"Invalid user credentials."}""");
        var api = new RecordingApiHandler();
        using var client = Client(h, api);

        var ex = Assert.Throws<RapidSosAuthenticationException>(() => client.Send(new HttpRequestMessage(HttpMethod.Get, "v1/ping")));

        Assert.That(ex!.Detail, Is.EqualTo("Invalid user credentials."));
        Assert.That(api.Sends, Is.Empty);
    }

    private sealed class NeverPumpedContext : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state)
        {
            // Dropped on purpose: nothing ever pumps this context.
        }

        public override SynchronizationContext CreateCopy() => this;
    }
}
