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
    public async Task GetToken_WhileAsyncFetchInFlight_FetchesOnItsOwnThreadOnceForAllSyncCallers()
    {
        using var h = new ProviderHarness();
        h.Endpoint.Hold();
        var asyncCaller = h.Provider.GetTokenAsync().AsTask();
        await h.Endpoint.WaitForRequestsAsync(1);
        var sync = (RapidSos.Http.Auth.Internal.ISyncTokenProvider)h.Provider;
        var fromSync = new AccessToken?[2];

        // The request under way needs the thread pool to finish; a synchronous caller must not depend on it (a
        // starved pool would stall it past the token's expiry), so it sends one of its own, shared by every
        // synchronous caller that comes while it is out.
        var callers = Enumerable.Range(0, 2).Select(i => new Thread(() => fromSync[i] = sync.GetToken(CancellationToken.None))).ToArray();
        callers[0].Start();
        await Poll.UntilAsync(() => h.Endpoint.RequestCount == 2, "the synchronous caller's own token request");
        callers[1].Start();
        await Poll.UntilAsync(() => callers.All(c => (c.ThreadState & ThreadState.WaitSleepJoin) != 0), "both synchronous callers to block");
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2), "the second synchronous caller joins the first one's request");
        Assert.That(h.Endpoint.SynchronousSends, Is.EqualTo(1), "sent with the back channel's synchronous Send, on the caller's thread");
        h.Endpoint.Release();
        Assert.That(callers.All(c => c.Join(TimeSpan.FromSeconds(30))), Is.True);

        Assert.That(fromSync[0], Is.SameAs(fromSync[1]));
        Assert.That((await asyncCaller).Value, Is.Not.Null);
        Assert.That(h.Endpoint.RequestCount, Is.EqualTo(2));
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
