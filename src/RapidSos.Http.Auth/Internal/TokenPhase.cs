namespace RapidSos.Http.Auth.Internal;

/// <summary>Where the current token of a lifecycle stands. Timers move it forward; the hot path only reads it.</summary>
internal enum TokenPhase
{
    /// <summary>No usable token: none yet, expired, dropped after a credential change, or the lifecycle ended.</summary>
    Empty,

    /// <summary>A token that is not yet due for refresh: served with one volatile read and no clock read.</summary>
    Fresh,

    /// <summary>A token inside its refresh-ahead window: still served, and the next caller starts one background refresh.</summary>
    RefreshDue,
}
