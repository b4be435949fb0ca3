using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;

namespace RapidSos.Http.Auth.Benchmarks.Anatomy;

/// <summary>Compile-time switches for <see cref="AnatomyHandler{TVariant}"/>: the JIT specialises each struct variant and drops the dead branches.</summary>
public interface IVariant
{
    static abstract bool NullCheck { get; }

    static abstract bool OriginCheck { get; }

    /// <summary>With <see cref="OriginCheck"/>: 1 compares the scheme only, 2 scheme and port, 3 scheme, port and host (the original).</summary>
    static virtual int OriginLevel => 3;

    /// <summary>
    /// With <see cref="OriginCheck"/>: 0 the handler's (<c>AllowedOrigins</c>: the base address in fields, the check inlined, the
    /// messages in a throw helper); 1 the shape before it (an <c>Origin[]</c> loop behind a second <c>IsAbsoluteUri</c> check).
    /// </summary>
    static virtual int OriginShape => 0;

    static abstract bool BufferCheck { get; }

    /// <summary>0: the registration's <see cref="ITokenProvider"/>; 1: a provider that returns a field; 2: no provider call, the token from a field.</summary>
    static abstract int TokenSource { get; }

    /// <summary>Reads the <c>_retryOnUnauthorized</c> field (true) or uses the constant <see langword="true"/>.</summary>
    static abstract bool RetryField { get; }

    /// <summary>0: the handler's AwaitResponseAsync (ternary with the pattern variable); 1: the floor's shape (if / return, retry in its own method).</summary>
    static abstract int Continuation { get; }
}

#pragma warning disable SA1649, CA1812, CA1815 // Throwaway variants, one line each.
public struct Copy : IVariant { public static bool NullCheck => true; public static bool OriginCheck => true; public static bool BufferCheck => true; public static int TokenSource => 0; public static bool RetryField => true; public static int Continuation => 0; }
public struct NoNullCheck : IVariant { public static bool NullCheck => false; public static bool OriginCheck => true; public static bool BufferCheck => true; public static int TokenSource => 0; public static bool RetryField => true; public static int Continuation => 0; }
public struct NoOrigin : IVariant { public static bool NullCheck => true; public static bool OriginCheck => false; public static bool BufferCheck => true; public static int TokenSource => 0; public static bool RetryField => true; public static int Continuation => 0; }
public struct NoBuffer : IVariant { public static bool NullCheck => true; public static bool OriginCheck => true; public static bool BufferCheck => false; public static int TokenSource => 0; public static bool RetryField => true; public static int Continuation => 0; }
public struct TrivialProvider : IVariant { public static bool NullCheck => true; public static bool OriginCheck => true; public static bool BufferCheck => true; public static int TokenSource => 1; public static bool RetryField => true; public static int Continuation => 0; }
public struct NoProvider : IVariant { public static bool NullCheck => true; public static bool OriginCheck => true; public static bool BufferCheck => true; public static int TokenSource => 2; public static bool RetryField => true; public static int Continuation => 0; }
public struct NoRetryField : IVariant { public static bool NullCheck => true; public static bool OriginCheck => true; public static bool BufferCheck => true; public static int TokenSource => 0; public static bool RetryField => false; public static int Continuation => 0; }
public struct FloorContinuation : IVariant { public static bool NullCheck => true; public static bool OriginCheck => true; public static bool BufferCheck => true; public static int TokenSource => 0; public static bool RetryField => true; public static int Continuation => 1; }
public struct OriginSchemeOnly : IVariant { public static bool NullCheck => true; public static bool OriginCheck => true; public static int OriginLevel => 1; public static bool BufferCheck => true; public static int TokenSource => 0; public static bool RetryField => true; public static int Continuation => 0; }
public struct OriginNoHost : IVariant { public static bool NullCheck => true; public static bool OriginCheck => true; public static int OriginLevel => 2; public static bool BufferCheck => true; public static int TokenSource => 0; public static bool RetryField => true; public static int Continuation => 0; }
public struct OriginArrayLoop : IVariant { public static bool NullCheck => true; public static bool OriginCheck => true; public static int OriginShape => 1; public static bool BufferCheck => true; public static int TokenSource => 0; public static bool RetryField => true; public static int Continuation => 0; }
public struct Minimal : IVariant { public static bool NullCheck => false; public static bool OriginCheck => false; public static bool BufferCheck => false; public static int TokenSource => 2; public static bool RetryField => false; public static int Continuation => 1; }
#pragma warning restore SA1649, CA1812, CA1815

/// <summary>
/// A copy of <c>BearerTokenHandler</c>'s hot path (src/RapidSos.Http.Auth/BearerTokenHandler.cs) whose pieces a
/// variant switches off one at a time, to find what each costs. Not sealed, like the original. The 401 paths are
/// kept only so that the continuations have the same shape; they never run here.
/// </summary>
public class AnatomyHandler<TVariant> : DelegatingHandler
    where TVariant : struct, IVariant
{
    private readonly ITokenProvider _tokenProvider;
    private readonly AccessToken _token;
    private readonly Origin[] _origins;
    private readonly string _scheme;
    private readonly string _host;
    private readonly int _port;
    private readonly Origin[]? _additional;
    private readonly bool _retryOnUnauthorized;

    public AnatomyHandler(ITokenProvider tokenProvider, AccessToken token, Uri baseAddress)
    {
        _tokenProvider = TVariant.TokenSource == 1 ? new FieldTokenProvider(token) : tokenProvider;
        _token = token;
        _origins = [new Origin(baseAddress.Scheme, baseAddress.Host, baseAddress.Port)];
        (_scheme, _host, _port, _additional) = (baseAddress.Scheme, baseAddress.Host, baseAddress.Port, null);
        _retryOnUnauthorized = true;
    }

    private bool Retry => TVariant.RetryField ? _retryOnUnauthorized : true;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (TVariant.NullCheck)
        {
            ArgumentNullException.ThrowIfNull(request);
        }

        if (TVariant.OriginCheck)
        {
            if (TVariant.OriginShape == 0)
            {
                EnsureAllowedOriginInlined(request);
            }
            else
            {
                EnsureAllowedOrigin(request);
            }
        }

        var tokenTask = TVariant.TokenSource == 2 ? new ValueTask<AccessToken>(_token) : _tokenProvider.GetTokenAsync(cancellationToken);
        if (!tokenTask.IsCompletedSuccessfully || (TVariant.BufferCheck && Retry && MustBuffer(request.Content)))
        {
            throw new NotSupportedException("The anatomy copy has no slow path.");
        }

        var token = tokenTask.Result;
        request.Headers.Authorization = HeaderValueOf(token);
        var responseTask = base.SendAsync(request, cancellationToken);
        if (!Retry
            || (responseTask.IsCompletedSuccessfully && responseTask.Result.StatusCode != HttpStatusCode.Unauthorized))
        {
            return responseTask;
        }

        return TVariant.Continuation == 0
            ? AwaitResponseAsync(request, responseTask, cancellationToken)
            : AwaitResponseFloorShapeAsync(request, responseTask, cancellationToken);
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_HeaderValue")]
    [return: UnsafeAccessorType("RapidSos.Http.Auth.Internal.BearerHeaderValue, RapidSos.Http.Auth")]
    private static extern object HeaderValueCore(AccessToken token);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_Token")]
    private static extern AccessToken TokenCore([UnsafeAccessorType("RapidSos.Http.Auth.Internal.BearerHeaderValue, RapidSos.Http.Auth")] object header);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static AuthenticationHeaderValue HeaderValueOf(AccessToken token) => Unsafe.As<AuthenticationHeaderValue>(HeaderValueCore(token));

    private async Task<HttpResponseMessage> AwaitResponseAsync(HttpRequestMessage request, Task<HttpResponseMessage> responseTask, CancellationToken cancellationToken)
    {
        var response = await responseTask.ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.Unauthorized && RejectedToken(request) is { } rejected
            ? await RetryWithNewTokenAsync(request, rejected, response, cancellationToken).ConfigureAwait(false)
            : response;
    }

    private async Task<HttpResponseMessage> AwaitResponseFloorShapeAsync(HttpRequestMessage request, Task<HttpResponseMessage> responseTask, CancellationToken cancellationToken)
    {
        var response = await responseTask.ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        return await RetryAfterUnauthorizedAsync(request, response, cancellationToken).ConfigureAwait(false);
    }

    private Task<HttpResponseMessage> RetryAfterUnauthorizedAsync(HttpRequestMessage request, HttpResponseMessage unauthorized, CancellationToken cancellationToken) =>
        RejectedToken(request) is { } rejected
            ? RetryWithNewTokenAsync(request, rejected, unauthorized, cancellationToken)
            : Task.FromResult(unauthorized);

    private async Task<HttpResponseMessage> RetryWithNewTokenAsync(HttpRequestMessage request, AccessToken rejected, HttpResponseMessage unauthorized, CancellationToken cancellationToken)
    {
        unauthorized.Dispose();
        var token = await _tokenProvider.RefreshTokenAsync(rejected, cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = HeaderValueOf(token);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private AccessToken? RejectedToken(HttpRequestMessage request) =>
        request.Headers.Authorization is { } sent && request.RequestUri is { } uri && Matches(uri) ? TokenCore(sent) : null;

    /// <summary>The handler's check since <c>AllowedOrigins</c>: <see cref="Matches"/> inlined, the messages out of line.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnsureAllowedOriginInlined(HttpRequestMessage request)
    {
        if (request.RequestUri is not { } uri || !Matches(uri))
        {
            ThrowNotAllowed(request);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNotAllowed(HttpRequestMessage request) =>
        throw new InvalidOperationException(request.RequestUri is { IsAbsoluteUri: true } ? "Origin not allowed." : "No absolute RequestUri.");

    /// <summary>A copy of <c>AllowedOrigins.Matches</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Matches(Uri uri)
    {
        if (!uri.IsAbsoluteUri)
        {
            return false;
        }

        if (string.Equals(uri.Scheme, _scheme, StringComparison.Ordinal)
            && (TVariant.OriginLevel < 2 || uri.Port == _port)
            && (TVariant.OriginLevel < 3 || string.Equals(uri.Host, _host, StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        return _additional is { } additional && MatchesAny(additional, uri);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool MatchesAny(Origin[] origins, Uri uri)
    {
        foreach (var origin in origins)
        {
            if (origin.Matches(uri))
            {
                return true;
            }
        }

        return false;
    }

    // The library's own rule, not a copy: what it costs is what the handler pays.
    [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "MustBuffer")]
    private static extern bool MustBufferCore([UnsafeAccessorType("RapidSos.Http.Auth.Internal.ReplayableContent, RapidSos.Http.Auth")] object? type, HttpContent? content);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool MustBuffer(HttpContent? content) => MustBufferCore(null, content);

    // The shape before AllowedOrigins (OriginShape 1).
    private bool IsAllowedOrigin(Uri? uri)
    {
        if (uri is null || !uri.IsAbsoluteUri)
        {
            return false;
        }

        foreach (var origin in _origins)
        {
            if (origin.Matches(uri))
            {
                return true;
            }
        }

        return false;
    }

    private void EnsureAllowedOrigin(HttpRequestMessage request)
    {
        var uri = request.RequestUri;
        if (uri is null || !uri.IsAbsoluteUri)
        {
            throw new InvalidOperationException("No absolute RequestUri.");
        }

        if (IsAllowedOrigin(uri))
        {
            return;
        }

        throw new InvalidOperationException("Origin not allowed.");
    }

    private sealed class Origin(string scheme, string host, int port)
    {
        public bool Matches(Uri uri) =>
            uri.Port == port
            && string.Equals(uri.Scheme, scheme, StringComparison.Ordinal)
            && string.Equals(uri.Host, host, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>A provider whose cached token is a field: what the interface call costs without the cache's own work.</summary>
public sealed class FieldTokenProvider(AccessToken token) : ITokenProvider
{
    public ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default) => new(token);

    public ValueTask<AccessToken> RefreshTokenAsync(AccessToken rejected, CancellationToken cancellationToken = default) => new(token);
}

/// <summary>The same with a counter checked on every hit, as <c>TokenTelemetry.CacheHit</c> does.</summary>
public sealed class CountingFieldTokenProvider(AccessToken token, Counter<long> hits) : ITokenProvider
{
    public ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default)
    {
        if (hits.Enabled)
        {
            hits.Add(1, new KeyValuePair<string, object?>("rapidsos.registration", string.Empty));
        }

        return new(token);
    }

    public ValueTask<AccessToken> RefreshTokenAsync(AccessToken rejected, CancellationToken cancellationToken = default) => new(token);
}

/// <summary>A floor that does not resend on a 401: its continuation holds only the inner task, not the handler, the request and the token.</summary>
public sealed class NonRetryingFloorHandler(AuthenticationHeaderValue header) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = header;
        var responseTask = base.SendAsync(request, cancellationToken);
        return responseTask.IsCompletedSuccessfully && responseTask.Result.StatusCode != HttpStatusCode.Unauthorized
            ? responseTask
            : AwaitResponseAsync(responseTask);
    }

    private static async Task<HttpResponseMessage> AwaitResponseAsync(Task<HttpResponseMessage> responseTask) =>
        await responseTask.ConfigureAwait(false);
}
