namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;

/// <summary>
/// What an operation that is meant to fail did: the exception it threw. A safety net of 30 s turns a hang into a
/// failure (it is no timing assertion: the store's own limit is far shorter).
/// </summary>
internal static class Outcome
{
    private static readonly TimeSpan s_safetyNet = TimeSpan.FromSeconds(30);

    public static async Task<Exception> ThrownByAsync(Func<Task> operation)
    {
        Task task;
        try
        {
            task = operation();
        }
        catch (Exception e)
        {
            return e;
        }

        try
        {
            await task.WaitAsync(s_safetyNet);
        }
        catch (Exception) when (task.IsCompleted)
        {
            return task.IsCanceled ? new OperationCanceledException() : task.Exception!.InnerException!;
        }

        Assert.Fail(task.IsCompleted ? "The operation succeeded; it was meant to throw." : $"The operation did not complete within {s_safetyNet.TotalSeconds} s.");
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>Completes when <paramref name="operation"/> does, or fails the test after the safety net.</summary>
    public static async Task CompletesAsync(Func<Task> operation)
    {
        var task = operation();
        try
        {
            await task.WaitAsync(s_safetyNet);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            Assert.Fail($"The operation did not complete within {s_safetyNet.TotalSeconds} s.");
        }
    }

    /// <summary>
    /// Polls (<see cref="Poll"/>) until <paramref name="attempt"/> returns <see langword="true"/>, starting it again
    /// each time the last one returned <see langword="false"/> or threw: for "works again once Redis is back".
    /// </summary>
    public static async Task EventuallyAsync(Func<Task<bool>> attempt, string because)
    {
        Task<bool>? current = null;
        await Poll.UntilAsync(
            () =>
            {
                if (current is { IsCompleted: true } done)
                {
                    if (done.IsCompletedSuccessfully && done.Result)
                    {
                        return true;
                    }

                    _ = done.Exception;
                    current = null;
                }

                current ??= Run(attempt);
                return false;
            },
            because);

        static async Task<bool> Run(Func<Task<bool>> attempt) => await attempt();
    }
}
