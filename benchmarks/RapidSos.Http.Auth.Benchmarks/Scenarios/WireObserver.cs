using System.Diagnostics;
using System.Net;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// A pass-through handler on the wire side of the code under test that notes, after <see cref="Reset"/>, when the
/// first request left, the first response came back, the first 401 came back and the first 200 after a 401 came
/// back (Stopwatch timestamps, 0 until seen).
/// </summary>
internal sealed class WireObserver : DelegatingHandler
{
    private long _firstSent;
    private long _firstResponse;
    private long _firstUnauthorized;
    private long _firstOkAfterUnauthorized;

    public WireObserver()
    {
    }

    public WireObserver(HttpMessageHandler inner)
        : base(inner)
    {
    }

    public long FirstSent => Volatile.Read(ref _firstSent);

    public long FirstResponse => Volatile.Read(ref _firstResponse);

    public long FirstUnauthorized => Volatile.Read(ref _firstUnauthorized);

    public long FirstOkAfterUnauthorized => Volatile.Read(ref _firstOkAfterUnauthorized);

    public void Reset()
    {
        Volatile.Write(ref _firstSent, 0);
        Volatile.Write(ref _firstResponse, 0);
        Volatile.Write(ref _firstUnauthorized, 0);
        Volatile.Write(ref _firstOkAfterUnauthorized, 0);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.CompareExchange(ref _firstSent, Stopwatch.GetTimestamp(), 0);
        var response = await base.SendAsync(request, cancellationToken);
        var now = Stopwatch.GetTimestamp();
        Interlocked.CompareExchange(ref _firstResponse, now, 0);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            Interlocked.CompareExchange(ref _firstUnauthorized, now, 0);
        }
        else if (response.StatusCode == HttpStatusCode.OK && Volatile.Read(ref _firstUnauthorized) != 0)
        {
            Interlocked.CompareExchange(ref _firstOkAfterUnauthorized, now, 0);
        }

        return response;
    }
}
