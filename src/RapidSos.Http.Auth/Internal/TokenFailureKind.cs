namespace RapidSos.Http.Auth.Internal;

/// <summary>What a failed token request says about the next one: it decides who waits and for how long.</summary>
internal enum TokenFailureKind
{
    /// <summary>5xx, 408, 429 without <c>Retry-After</c>, network, timeout, a malformed answer: the next request may succeed.</summary>
    Transient,

    /// <summary>400, 401, 403 and other 4xx: the credentials or the endpoint are wrong, and waiting cannot help a caller.</summary>
    Refused,

    /// <summary>429 or 503 with a <c>Retry-After</c>: the gateway said when it will listen again.</summary>
    RateLimited,
}
