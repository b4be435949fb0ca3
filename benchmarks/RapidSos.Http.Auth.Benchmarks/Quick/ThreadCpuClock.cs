using System.Runtime.InteropServices;
using Perfolizer.Horology;

namespace RapidSos.Http.Auth.Benchmarks.Quick;

/// <summary>
/// A BenchmarkDotNet clock that reads the calling thread's CPU time (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>) instead
/// of the wall clock. With the in-process toolchain every iteration runs on one thread, the asynchronous
/// terminal included, so this counts exactly the work of the operations; time spent preempted by other processes
/// does not count, which keeps quick figures usable on a small machine busy with builds and tests.
/// </summary>
internal sealed partial class ThreadCpuClock : IClock
{
    private const int ClockThreadCpuTimeId = 3;

    public static ThreadCpuClock Instance { get; } = new();

    public string Title => "Thread CPU time";

    public bool IsAvailable => OperatingSystem.IsLinux() && TryRead(out _);

    public Frequency Frequency => Frequency.GHz;

    public long GetTimestamp() => TryRead(out var nanoseconds) ? nanoseconds : throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed.");

    private static bool TryRead(out long nanoseconds)
    {
        if (ClockGetTime(ClockThreadCpuTimeId, out var time) != 0)
        {
            nanoseconds = 0;
            return false;
        }

        nanoseconds = (time.Seconds * 1_000_000_000) + time.Nanoseconds;
        return true;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
