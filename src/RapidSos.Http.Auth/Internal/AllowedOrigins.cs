using System.Runtime.CompilerServices;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The origins (scheme, host and port) a registration's bearer token may be sent to: its
/// <see cref="RapidSosAuthOptions.BaseAddress"/> and its <see cref="RapidSosAuthOptions.AdditionalOrigins"/>.
/// Immutable; <see cref="Matches"/> runs on every request and allocates nothing.
/// </summary>
/// <remarks>
/// A request matches an origin when its <see cref="Uri.Scheme"/> and <see cref="Uri.Port"/> are the origin's
/// (so an explicit default port is the same as none) and its <see cref="Uri.Host"/> is the origin's, compared
/// ordinally without regard to case. Nothing else of the URI counts (path, query, user info). The base address
/// is held in fields of its own, not in the array, since most registrations have no other origin.
/// </remarks>
internal sealed class AllowedOrigins
{
    // The base address, unpacked: one load from this object per part, no array and no second object.
    private readonly string _scheme;
    private readonly string _host;
    private readonly int _port;
    private readonly Origin[]? _additional;
    private readonly Uri[] _tokenEndpoints;

    private AllowedOrigins(Origin @base, Origin[]? additional, Uri[] tokenEndpoints)
    {
        _scheme = @base.Scheme;
        _host = @base.Host;
        _port = @base.Port;
        _additional = additional;
        _tokenEndpoints = tokenEndpoints;
    }

    /// <summary>The origins <paramref name="options"/> allows, read once.</summary>
    /// <exception cref="ArgumentException"><see cref="RapidSosAuthOptions.BaseAddress"/> or an additional origin is missing, not absolute,
    /// or plain http to a host other than loopback.</exception>
    public static AllowedOrigins From(RapidSosAuthOptions options)
    {
        var @base = Origin.From(options.BaseAddress, nameof(options.BaseAddress));
        List<Origin>? additional = null;
        foreach (var origin in options.AdditionalOrigins)
        {
            (additional ??= []).Add(Origin.From(origin, nameof(options.AdditionalOrigins)));
        }

        var endpoints = RegistrationEndpoints.From(options);
        var grants = new[] { RapidSosGrantType.ClientCredentials, RapidSosGrantType.Password };
        return new AllowedOrigins(@base, additional?.ToArray(), [.. grants.Select(endpoints.For).Distinct()]);
    }

    /// <summary>
    /// Whether <paramref name="request"/> is a POST to one of the registration's token endpoints: the library's own
    /// token request, possibly copied by a handler in front of the bearer handler (hedging, cloning retries), which
    /// must never wait for a token itself.
    /// </summary>
    public bool IsTokenRequest(HttpRequestMessage request)
    {
        if (request.Method != HttpMethod.Post || request.RequestUri is not { IsAbsoluteUri: true } uri)
        {
            return false;
        }

        foreach (var endpoint in _tokenEndpoints)
        {
            if (uri.Port == endpoint.Port && string.Equals(uri.Scheme, endpoint.Scheme, StringComparison.Ordinal)
                && string.Equals(uri.Host, endpoint.Host, StringComparison.OrdinalIgnoreCase)
                && string.Equals(uri.AbsolutePath.TrimEnd('/'), endpoint.AbsolutePath.TrimEnd('/'), StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="uri"/> goes to one of the allowed origins; never for a relative URI.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Matches(Uri uri)
    {
        if (!uri.IsAbsoluteUri)
        {
            return false;
        }

        // Scheme first: for http and https it is the parser's interned name, and the base address's is the same
        // string, so the comparison is a reference check. Then the port (an int), then the host (the only read
        // that may do work in Uri, and the only comparison that looks at characters).
        if (string.Equals(uri.Scheme, _scheme, StringComparison.Ordinal) && uri.Port == _port
            && string.Equals(uri.Host, _host, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return _additional is { } additional && MatchesAny(additional, uri);
    }

    /// <summary>The allowed origins, for error messages: <c>scheme://host:port</c>, comma separated, the base address first.</summary>
    public string Describe()
    {
        var @base = Origin.Describe(_scheme, _host, _port);
        return _additional is null ? @base : $"{@base}, {string.Join(", ", (IEnumerable<Origin>)_additional)}";
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool MatchesAny(Origin[] origins, Uri uri)
    {
        var scheme = uri.Scheme;
        var port = uri.Port;
        string? host = null;
        foreach (var origin in origins)
        {
            if (port == origin.Port && string.Equals(scheme, origin.Scheme, StringComparison.Ordinal)
                && string.Equals(host ??= uri.Host, origin.Host, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One scheme, host and port.</summary>
    private sealed class Origin
    {
        private Origin(string scheme, string host, int port)
        {
            Scheme = scheme;
            Host = host;
            Port = port;
        }

        public string Scheme { get; }

        public string Host { get; }

        public int Port { get; }

        public static Origin From(Uri? uri, string option)
        {
            if (uri is null || !uri.IsAbsoluteUri)
            {
                throw new ArgumentException($"{nameof(RapidSosAuthOptions)}.{option} must be an absolute URI.", option);
            }

            // The same rule as the options validator, for handlers built by hand without it: a bearer token never
            // travels over plain HTTP except to this machine.
            if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
            {
                throw new ArgumentException(
                    $"{nameof(RapidSosAuthOptions)}.{option} must use https (plain http is allowed only for loopback hosts), not '{uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped)}'.", option);
            }

            if (uri.UserInfo.Length > 0)
            {
                throw new ArgumentException(
                    $"{nameof(RapidSosAuthOptions)}.{option} must not contain user information (not shown here), '{uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped)}'.", option);
            }

            return new Origin(uri.Scheme, uri.Host, uri.Port);
        }

        public static string Describe(string scheme, string host, int port) => $"{scheme}://{host}:{port}";

        public override string ToString() => Describe(Scheme, Host, Port);
    }
}
