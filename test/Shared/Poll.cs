using System.Diagnostics;

namespace RapidSos.Http.Auth.Tests.Shared;

/// <summary>
/// The one way a test waits for something that happens in the background (a request arriving, a refresh
/// finishing, a log line or a measurement being recorded): it polls an observable condition. Compiled into every
/// test project from test/Shared, so there is no second polling loop anywhere in the test tree.
/// </summary>
/// <remarks>
/// Wait on a condition, never on a sleep: a sleep is either too short on a loaded machine or wastes time
/// everywhere else. The timeout is only a safety net that turns a hang into a failure; nothing should depend on it.
/// </remarks>
internal static class Poll
{
    /// <summary>The safety net: generous, so a slow CI machine never fails a test that would have passed.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private const int YieldsBeforeDelaying = 20;
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// Completes as soon as <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> naming
    /// <paramref name="because"/> if it still does not after <paramref name="timeout"/> (default 30 s).
    /// </summary>
    /// <param name="condition">Checked at once, then after each yield or short delay; its exceptions propagate.</param>
    /// <param name="because">What is awaited, for the failure message: "the second token request".</param>
    /// <param name="timeout">The safety net; <see cref="DefaultTimeout"/> unless given.</param>
    public static async Task UntilAsync(Func<bool> condition, string? because = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        for (var attempt = 0; !condition(); attempt++)
        {
            if (clock.Elapsed >= limit)
            {
                throw new TimeoutException($"Gave up after {limit.TotalSeconds:0.###} s waiting for {because ?? "the condition"}.");
            }

            // Most effects are a continuation or two away: yield first, then back off to short delays so a slow
            // effect does not keep a core busy.
            if (attempt < YieldsBeforeDelaying)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(s_interval);
            }
        }
    }

    /// <summary>As <see cref="UntilAsync(Func{bool}, string?, TimeSpan?)"/>, for a condition that must itself await (a call that may fail until something recovers).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string? because = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        for (var attempt = 0; !await condition(); attempt++)
        {
            if (clock.Elapsed >= limit)
            {
                throw new TimeoutException($"Gave up after {limit.TotalSeconds:0.###} s waiting for {because ?? "the condition"}.");
            }

            if (attempt < YieldsBeforeDelaying)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(s_interval);
            }
        }
    }
}
