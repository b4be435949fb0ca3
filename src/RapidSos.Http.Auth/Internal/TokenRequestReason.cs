namespace RapidSos.Http.Auth.Internal;

/// <summary>Why a token request is made.</summary>
internal enum TokenRequestReason
{
    /// <summary>No valid token exists and a caller needs one.</summary>
    NoToken,

    /// <summary>The current token is due for refresh; callers keep using it meanwhile.</summary>
    RefreshAhead,

    /// <summary>The API answered 401 to the current token.</summary>
    Rejected,
}
