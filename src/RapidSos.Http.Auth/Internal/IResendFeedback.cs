namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// What <see cref="BearerTokenHandler"/> tells the built-in provider after it resent a request with a replacement
/// token: whether the API accepted it. A replacement rejected again is evidence that the API rejects the request,
/// not the token, so 401-driven replacements are spaced until a resend succeeds again.
/// </summary>
internal interface IResendFeedback
{
    void ResendRejected(AccessToken replacement);

    void ResendAccepted();
}
