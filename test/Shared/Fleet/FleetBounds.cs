namespace RapidSos.Http.Auth.Tests.Shared.Fleet;

/// <summary>What one instance alone needs: the yardstick a fleet sharing its tokens is held to.</summary>
internal static class FleetBounds
{
    /// <summary>The library's default <c>RefreshBeforeExpiry</c>.</summary>
    public static readonly TimeSpan DefaultRefreshBeforeExpiry = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The most token requests one instance refreshing ahead sends in <paramref name="duration"/>: the first, then one
    /// per lifetime less the refresh window (the library's window: the smaller of
    /// <paramref name="refreshBeforeExpiry"/> and a fifth of the lifetime), rounded up.
    /// </summary>
    public static int SingleInstanceTokenRequests(TimeSpan duration, TimeSpan lifetime, TimeSpan? refreshBeforeExpiry = null)
    {
        var window = TimeSpan.FromTicks(Math.Min((refreshBeforeExpiry ?? DefaultRefreshBeforeExpiry).Ticks, lifetime.Ticks / 5));
        var period = lifetime - window;
        return (int)Math.Ceiling(duration / period) + 1;
    }
}
