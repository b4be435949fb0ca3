namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>The bounded record of requests and issued tokens, and the exact counters; thread-safe.</summary>
/// <remarks>
/// A lock around two small queues: it is held for a few instructions per request, far below the cost of the HTTP
/// exchange even with thousands of concurrent requests, and keeps the bound and <see cref="Reset"/> exact.
/// </remarks>
internal sealed class RequestRecorder
{
    private readonly object _gate = new();
    private readonly Queue<EmulatorRequest> _requests = new();
    private readonly Queue<string> _issuedTokens = new();
    private readonly int _capacity;

    private int _tokenRequestCount;
    private int _successfulTokenRequestCount;
    private int _apiRequestCount;
    private int _unauthorizedCount;

    public RequestRecorder(int capacity) => _capacity = capacity;

    public int TokenRequestCount => Volatile.Read(ref _tokenRequestCount);

    public int SuccessfulTokenRequestCount => Volatile.Read(ref _successfulTokenRequestCount);

    public int ApiRequestCount => Volatile.Read(ref _apiRequestCount);

    public int UnauthorizedCount => Volatile.Read(ref _unauthorizedCount);

    public void CountTokenRequest() => Interlocked.Increment(ref _tokenRequestCount);

    public void CountApiRequest() => Interlocked.Increment(ref _apiRequestCount);

    public void CountUnauthorized() => Interlocked.Increment(ref _unauthorizedCount);

    public void RecordIssuedToken(string token)
    {
        Interlocked.Increment(ref _successfulTokenRequestCount);
        if (_capacity == 0)
        {
            return;
        }

        lock (_gate)
        {
            Enqueue(_issuedTokens, token);
        }
    }

    public void Record(EmulatorRequest request)
    {
        if (_capacity == 0)
        {
            return;
        }

        lock (_gate)
        {
            Enqueue(_requests, request);
        }
    }

    public EmulatorRequest[] Requests(bool tokenRequestsOnly)
    {
        lock (_gate)
        {
            return tokenRequestsOnly ? _requests.Where(static r => r.IsTokenRequest).ToArray() : _requests.ToArray();
        }
    }

    public string[] IssuedTokens()
    {
        lock (_gate)
        {
            return _issuedTokens.ToArray();
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            _requests.Clear();
            _issuedTokens.Clear();
            Interlocked.Exchange(ref _tokenRequestCount, 0);
            Interlocked.Exchange(ref _successfulTokenRequestCount, 0);
            Interlocked.Exchange(ref _apiRequestCount, 0);
            Interlocked.Exchange(ref _unauthorizedCount, 0);
        }
    }

    private void Enqueue<T>(Queue<T> queue, T item)
    {
        if (queue.Count == _capacity)
        {
            queue.Dequeue();
        }

        queue.Enqueue(item);
    }
}
