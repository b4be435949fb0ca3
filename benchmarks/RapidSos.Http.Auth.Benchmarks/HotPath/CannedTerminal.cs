using System.Net;

namespace RapidSos.Http.Auth.Benchmarks.HotPath;

/// <summary>How the terminal handler (the stand-in for the socket) completes.</summary>
public enum TerminalCompletion
{
    /// <summary>The response task is already complete when <c>SendAsync</c> returns: <c>Task.FromResult</c>.</summary>
    Synchronous,

    /// <summary>
    /// The response task is still pending when <c>SendAsync</c> returns and completes afterwards on the same thread,
    /// as a socket's completion does on its I/O thread: every handler above it that must look at the status has to
    /// register a continuation. No thread hop, so the figure is the handlers' own cost, not the thread pool's.
    /// </summary>
    Asynchronous,

    /// <summary>
    /// The terminal is an <c>async</c> method that does <c>await Task.Yield()</c> before answering: the response
    /// completes later on a thread-pool thread, as a socket's does, and the continuations of every layer above it run
    /// there. Unlike <see cref="Asynchronous"/>, the caller cannot complete it: it must await the task.
    /// </summary>
    Yield,
}

/// <summary>
/// The terminal handler: answers every request with the same 200 response, never disposed, so it costs the same in
/// every arm. In <see cref="TerminalCompletion.Asynchronous"/> mode each call returns a pending task that
/// <see cref="CompletePending"/> completes; the caller must call it once after each send. In
/// <see cref="TerminalCompletion.Yield"/> mode each call yields to the thread pool and answers from there.
/// Single-threaded use only (one request in flight at a time).
/// </summary>
internal sealed class CannedTerminal : HttpMessageHandler
{
    private readonly HttpResponseMessage _response = new(HttpStatusCode.OK);
    private readonly Task<HttpResponseMessage> _completed;
    private readonly TerminalCompletion _completion;
    private TaskCompletionSource<HttpResponseMessage>? _pending;

    public CannedTerminal(TerminalCompletion completion)
    {
        _completion = completion;
        _completed = Task.FromResult(_response);
    }

    /// <summary>Completes the task the last asynchronous send returned; its continuations run inline, here.</summary>
    public void CompletePending()
    {
        var pending = _pending;
        _pending = null;
        pending?.SetResult(_response);
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_completion == TerminalCompletion.Synchronous)
        {
            return _completed;
        }

        if (_completion == TerminalCompletion.Yield)
        {
            return YieldThenAnswerAsync();
        }

        // One TaskCompletionSource per call in every arm, baseline included: the same work everywhere.
        var pending = new TaskCompletionSource<HttpResponseMessage>();
        _pending = pending;
        return pending.Task;
    }

    private async Task<HttpResponseMessage> YieldThenAnswerAsync()
    {
        await Task.Yield();
        return _response;
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) => _response;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _response.Dispose();
        }

        base.Dispose(disposing);
    }
}
