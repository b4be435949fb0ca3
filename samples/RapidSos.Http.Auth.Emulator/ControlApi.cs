using System.Collections.Concurrent;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using RapidSos.Http.Auth.Emulator.Contracts;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Emulator;

/// <summary>
/// The emulator's control API, served on a port of its own and under <see cref="Prefix"/>: revoke and reject tokens,
/// queue faults, read and reset the counters, change settings, add and remove clients and users. Every answer is
/// JSON; every error is <c>{"error":"..."}</c> naming the field or parameter. No answer ever holds a secret, a password
/// or a token.
/// </summary>
/// <remarks>
/// For development only, and unauthenticated: it listens on 127.0.0.1, and refuses requests that carry an
/// <c>Origin</c> header or a <c>Host</c> that is not a loopback name, so a web page open in a browser on the same
/// machine cannot drive it (directly or through DNS rebinding).
/// </remarks>
internal sealed class ControlApi
{
    /// <summary>The path every control endpoint is under: off the RapidSOS paths, and on a port of its own besides.</summary>
    public const string Prefix = "/_emulator";

    /// <summary>The longest latency, stall or Retry-After accepted: longer is a typo, and "infinite" exists for stalls.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromHours(24);

    /// <summary>The largest request body: every control body is a small JSON object.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private static readonly EndpointInfo[] EndpointList =
    [
        new("GET", "/_emulator/", "This list, and where the gateway is."),
        new("POST", "/_emulator/revoke", "Revoke every token issued so far; ?client=<id>, ?user=<name> or ?token=<token> for some."),
        new("POST", "/_emulator/reject", "Toggle whether the API refuses every token; ?enabled=true or ?enabled=false sets it."),
        new("POST", "/_emulator/faults", "Queue a token-endpoint fault: {\"kind\", \"status\", \"body\", \"contentType\", \"detail\", \"faultstring\", \"errorcode\", \"error\", \"errorDescription\", \"location\", \"retryAfter\", \"stall\", \"count\", \"client\"}; kinds: " + FaultBuilder.KindList + "."),
        new("POST", "/_emulator/api-faults", "Queue a fault for the protected API: the same body without \"client\"."),
        new("GET", "/_emulator/counters", "{tokenRequests, successfulTokenRequests, apiRequests, unauthorized}."),
        new("POST", "/_emulator/reset", "Zero the counters; tokens, clients, users, queued faults and settings stay."),
        new("GET", "/_emulator/settings", "{tokenLifetime, tokenLatency, rejectAllTokens}."),
        new("POST", "/_emulator/settings", "Change any of them: {\"tokenLifetime\":\"30s\", \"tokenLatency\":\"250ms\", \"rejectAllTokens\":false}."),
        new("POST", "/_emulator/clients", "Add a client, or change a known client's secret: {\"clientId\", \"clientSecret\"}."),
        new("DELETE", "/_emulator/clients/{id}", "Remove a client and revoke its tokens."),
        new("POST", "/_emulator/users", "Add a Portal user, or change one: {\"username\", \"password\", \"clientId\" (optional: any client)}."),
        new("DELETE", "/_emulator/users/{name}", "Remove a user and revoke their tokens."),
    ];

    // Relaxed escaping keeps quotes and apostrophes readable in curl; the bodies are JSON, never embedded in HTML.
    private static readonly ControlJsonContext Json = new(new JsonSerializerOptions(ControlJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    private readonly RapidSosGatewayEmulator _emulator;
    private readonly ConcurrentDictionary<string, byte> _clientIds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _usernames = new(StringComparer.Ordinal);

    public ControlApi(RapidSosGatewayEmulator emulator, IEnumerable<string> clientIds, IEnumerable<string> usernames)
    {
        _emulator = emulator;
        foreach (var clientId in clientIds)
        {
            _clientIds[clientId] = 0;
        }

        foreach (var username in usernames)
        {
            _usernames[username] = 0;
        }
    }

    /// <summary>Answers one request; never throws.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            CheckCaller(context.Request);
            await RouteAsync(context).ConfigureAwait(false);
        }
        catch (ControlApiException refusal)
        {
            await WriteAsync(context, refusal.StatusCode, new ErrorResponse(refusal.Message), Json.ErrorResponse).ConfigureAwait(false);
        }
        catch (BadHttpRequestException bad) when (!context.Response.HasStarted)
        {
            // Kestrel's own refusals while the body is read: too large (413), or cut short.
            await WriteAsync(context, bad.StatusCode, new ErrorResponse(BodyErrorMessage(bad.StatusCode)), Json.ErrorResponse).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away.
        }
        catch (Exception unexpected) when (!context.Response.HasStarted)
        {
            // A defect: named by type only, as a message might quote the request.
            await WriteAsync(context, 500, new ErrorResponse($"The control API failed with {unexpected.GetType().Name}."), Json.ErrorResponse).ConfigureAwait(false);
        }
    }

    private static string BodyErrorMessage(int status) => status == StatusCodes.Status413PayloadTooLarge
        ? $"The body is larger than {MaxBodyBytes} bytes; every control body is a small JSON object."
        : "The body could not be read.";

    private static void CheckCaller(HttpRequest request)
    {
        if (request.Headers.ContainsKey("Origin"))
        {
            throw new ControlApiException(403, "The control API refuses requests from web pages (the request has an Origin header): use curl, Postman or an HTTP client.");
        }

        var host = request.Host.Host;
        if (!string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) && !(IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address)))
        {
            throw new ControlApiException(403, $"The control API answers only requests addressed to a loopback host (127.0.0.1 or localhost), not '{request.Host}'.");
        }
    }

    private async Task RouteAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? string.Empty;
        if (!path.StartsWith(Prefix, StringComparison.Ordinal) || (path.Length > Prefix.Length && path[Prefix.Length] != '/'))
        {
            throw new ControlApiException(404, $"This is the emulator's control port: its endpoints are under {Prefix}/ (GET {Prefix}/ lists them). The gateway is at {_emulator.BaseAddress}.");
        }

        var route = path[Prefix.Length..].TrimEnd('/');
        var method = request.Method;
        switch (route)
        {
            case "":
                RequireMethod(method, "GET");
                await WriteAsync(context, 200, Index(), Json.IndexResponse).ConfigureAwait(false);
                return;
            case "/revoke":
                RequireMethod(method, "POST");
                await WriteAsync(context, 200, Revoke(request.Query), Json.RevokeResponse).ConfigureAwait(false);
                return;
            case "/reject":
                RequireMethod(method, "POST");
                await WriteAsync(context, 200, Reject(request.Query), Json.RejectResponse).ConfigureAwait(false);
                return;
            case "/faults":
            case "/api-faults":
                RequireMethod(method, "POST");
                RequireNoQuery(request.Query);
                var fault = await ReadBodyAsync(context, Json.FaultRequest).ConfigureAwait(false);
                await WriteAsync(context, 200, EnqueueFault(fault, route == "/faults"), Json.FaultsResponse).ConfigureAwait(false);
                return;
            case "/counters":
                RequireMethod(method, "GET");
                await WriteAsync(context, 200, Counters(), Json.CountersResponse).ConfigureAwait(false);
                return;
            case "/reset":
                RequireMethod(method, "POST");
                RequireNoQuery(request.Query);
                _emulator.ResetRecords();
                await WriteAsync(context, 200, Counters(), Json.CountersResponse).ConfigureAwait(false);
                return;
            case "/settings":
                RequireMethod(method, "GET", "POST");
                if (method == "POST")
                {
                    ApplySettings(await ReadBodyAsync(context, Json.SettingsRequest).ConfigureAwait(false));
                }

                await WriteAsync(context, 200, Settings(), Json.SettingsResponse).ConfigureAwait(false);
                return;
            case "/clients":
                RequireMethod(method, "POST");
                var client = await ReadBodyAsync(context, Json.ClientRequest).ConfigureAwait(false);
                var (clientStatus, clientResult) = AddClient(client);
                await WriteAsync(context, clientStatus, clientResult, Json.CredentialResponse).ConfigureAwait(false);
                return;
            case "/users":
                RequireMethod(method, "POST");
                var user = await ReadBodyAsync(context, Json.UserRequest).ConfigureAwait(false);
                var (userStatus, userResult) = AddUser(user);
                await WriteAsync(context, userStatus, userResult, Json.CredentialResponse).ConfigureAwait(false);
                return;
            case var _ when route.StartsWith("/clients/", StringComparison.Ordinal) && route.Length > "/clients/".Length:
                RequireMethod(method, "DELETE");
                await WriteAsync(context, 200, RemoveClient(route["/clients/".Length..]), Json.CredentialResponse).ConfigureAwait(false);
                return;
            case var _ when route.StartsWith("/users/", StringComparison.Ordinal) && route.Length > "/users/".Length:
                RequireMethod(method, "DELETE");
                await WriteAsync(context, 200, RemoveUser(route["/users/".Length..]), Json.CredentialResponse).ConfigureAwait(false);
                return;
            default:
                throw new ControlApiException(404, $"No control endpoint {path}; GET {Prefix}/ lists them.");
        }
    }

    private IndexResponse Index() => new(
        _emulator.BaseAddress.ToString(),
        _emulator.TokenEndpoint.ToString(),
        _emulator.PasswordTokenEndpoint.ToString(),
        EndpointList);

    private RevokeResponse Revoke(IQueryCollection query)
    {
        CheckQuery(query, "client", "user", "token");
        if (query.Count > 1)
        {
            throw ControlApiException.BadRequest("Give at most one of ?client=, ?user= and ?token= (none revokes every token).");
        }

        if (Single(query, "client") is { } clientId)
        {
            _emulator.RevokeClientTokens(clientId);
            return new RevokeResponse("client", Client: clientId);
        }

        if (Single(query, "user") is { } username)
        {
            _emulator.RevokeUserTokens(username);
            return new RevokeResponse("user", User: username);
        }

        if (Single(query, "token") is { } token)
        {
            // The token itself is never sent back.
            return new RevokeResponse("token", Found: _emulator.RevokeToken(token));
        }

        _emulator.RevokeAllTokens();
        return new RevokeResponse("all");
    }

    private RejectResponse Reject(IQueryCollection query)
    {
        CheckQuery(query, "enabled");
        var enabled = Single(query, "enabled") switch
        {
            null => !_emulator.RejectAllTokens,
            var text when bool.TryParse(text, out var value) => value,
            var text => throw ControlApiException.BadRequest($"?enabled must be true or false, not '{text}'."),
        };
        _emulator.RejectAllTokens = enabled;
        return new RejectResponse(enabled);
    }

    private FaultsResponse EnqueueFault(FaultRequest request, bool tokenEndpoint)
    {
        if (!tokenEndpoint && request.Client is not null)
        {
            throw ControlApiException.BadRequest("\"client\" applies to token faults (POST /_emulator/faults) only: API faults answer the next API request, whoever sends it.");
        }

        if (request.Client is { Length: 0 })
        {
            throw ControlApiException.BadRequest("\"client\" must not be empty; leave it out for a fault that any client's next token request gets.");
        }

        var (fault, count) = FaultBuilder.Build(request);
        for (var i = 0; i < count; i++)
        {
            if (!tokenEndpoint)
            {
                _emulator.EnqueueApiFault(fault);
            }
            else if (request.Client is { } clientId)
            {
                _emulator.EnqueueFault(clientId, fault);
            }
            else
            {
                _emulator.EnqueueFault(fault);
            }
        }

        return new FaultsResponse(tokenEndpoint ? "token" : "api", fault.ToString(), count, request.Client);
    }

    private CountersResponse Counters() =>
        new(_emulator.TokenRequestCount, _emulator.SuccessfulTokenRequestCount, _emulator.ApiRequestCount, _emulator.UnauthorizedCount);

    private SettingsResponse Settings() =>
        new(Durations.Format(_emulator.TokenLifetime), Durations.Format(_emulator.TokenLatency), _emulator.RejectAllTokens);

    private void ApplySettings(SettingsRequest request)
    {
        // Everything is checked before anything changes, so a refused request changes nothing.
        var lifetime = FaultBuilder.ReadDuration(request.TokenLifetime, "tokenLifetime", allowInfinite: false, Durations.Max);
        var latency = FaultBuilder.ReadDuration(request.TokenLatency, "tokenLatency", allowInfinite: false);
        if (lifetime is null && latency is null && request.RejectAllTokens is null)
        {
            throw ControlApiException.BadRequest("Give at least one of \"tokenLifetime\", \"tokenLatency\" and \"rejectAllTokens\".");
        }

        if (lifetime is { } newLifetime)
        {
            _emulator.TokenLifetime = newLifetime;
        }

        if (latency is { } newLatency)
        {
            _emulator.TokenLatency = newLatency;
        }

        if (request.RejectAllTokens is { } reject)
        {
            _emulator.RejectAllTokens = reject;
        }
    }

    private (int Status, CredentialResponse Result) AddClient(ClientRequest request)
    {
        var clientId = RequireName(request.ClientId, "clientId");
        if (string.IsNullOrEmpty(request.ClientSecret))
        {
            throw ControlApiException.BadRequest("\"clientSecret\" is required and must not be empty.");
        }

        _emulator.AddClient(clientId, request.ClientSecret);
        return _clientIds.TryAdd(clientId, 0)
            ? (201, new CredentialResponse("added", ClientId: clientId))
            : (200, new CredentialResponse("secretChanged", ClientId: clientId));
    }

    private CredentialResponse RemoveClient(string clientId)
    {
        var known = _emulator.RemoveClient(clientId);
        _clientIds.TryRemove(clientId, out _);
        return known
            ? new CredentialResponse("removed", ClientId: clientId)
            : throw new ControlApiException(404, $"No client '{clientId}' (tokens issued to that id, if any, are revoked all the same).");
    }

    private (int Status, CredentialResponse Result) AddUser(UserRequest request)
    {
        var username = RequireName(request.Username, "username");
        if (string.IsNullOrEmpty(request.Password))
        {
            throw ControlApiException.BadRequest("\"password\" is required and must not be empty.");
        }

        if (request.ClientId is null)
        {
            _emulator.AddUser(username, request.Password);
        }
        else if (request.ClientId.Length == 0)
        {
            throw ControlApiException.BadRequest("\"clientId\" must not be empty; leave it out for a user who signs in through any client.");
        }
        else
        {
            _emulator.AddUser(RequireName(request.ClientId, "clientId"), username, request.Password);
        }

        return _usernames.TryAdd(username, 0)
            ? (201, new CredentialResponse("added", request.ClientId, username))
            : (200, new CredentialResponse("replaced", request.ClientId, username));
    }

    private CredentialResponse RemoveUser(string username)
    {
        var known = _emulator.RemoveUser(username);
        _usernames.TryRemove(username, out _);
        return known
            ? new CredentialResponse("removed", Username: username)
            : throw new ControlApiException(404, $"No user '{username}' (tokens issued to that name, if any, are revoked all the same).");
    }

    private static string RequireName(string? value, string field)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw ControlApiException.BadRequest($"\"{field}\" is required and must not be empty.");
        }

        return value.Any(char.IsControl)
            ? throw ControlApiException.BadRequest($"\"{field}\" must not contain control characters.")
            : value;
    }

    private static void RequireMethod(string method, params string[] allowed)
    {
        if (!allowed.Contains(method, StringComparer.Ordinal))
        {
            throw new ControlApiException(405, $"Use {string.Join(" or ", allowed)} here, not {method}.");
        }
    }

    private static void RequireNoQuery(IQueryCollection query) => CheckQuery(query);

    private static void CheckQuery(IQueryCollection query, params string[] allowed)
    {
        foreach (var (key, values) in query)
        {
            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                throw ControlApiException.BadRequest(allowed.Length == 0
                    ? $"This endpoint takes no query parameter, not '{key}'."
                    : $"Unknown query parameter '{key}'; this endpoint takes {string.Join(", ", allowed.Select(a => "?" + a + "="))}.");
            }

            if (values.Count != 1 || string.IsNullOrEmpty(values[0]))
            {
                throw ControlApiException.BadRequest($"?{key}= must be given once, with a value.");
            }
        }
    }

    private static string? Single(IQueryCollection query, string key) =>
        query.TryGetValue(key, out StringValues values) ? values[0] : null;

    private static async Task<T> ReadBodyAsync<T>(HttpContext context, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        if (buffer.Length == 0)
        {
            throw ControlApiException.BadRequest("This endpoint needs a JSON object in the body.");
        }

        // Parsed first, so a malformed body is reported by position only, never by quoting it: it may hold a secret.
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException malformed)
        {
            throw ControlApiException.BadRequest(
                $"The body is not well-formed JSON (line {malformed.LineNumber + 1}, byte {malformed.BytePositionInLine + 1}).");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw ControlApiException.BadRequest("The body must be a JSON object.");
            }

            try
            {
                return document.Deserialize(typeInfo) ?? throw ControlApiException.BadRequest("The body must be a JSON object.");
            }
            catch (JsonException wrong)
            {
                // Type and field errors: the message names the field and the expected type, not the value.
                throw ControlApiException.BadRequest($"The body does not fit this endpoint at {wrong.Path}: {FirstSentence(wrong.Message)}");
            }
        }
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    private static async Task WriteAsync<T>(HttpContext context, int status, T value, JsonTypeInfo<T> typeInfo)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        if (status == 405)
        {
            response.Headers.Allow = AllowedMethods(context.Request.Path.Value ?? string.Empty);
        }

        await JsonSerializer.SerializeAsync(response.Body, value, typeInfo, context.RequestAborted).ConfigureAwait(false);
    }

    private static string AllowedMethods(string path)
    {
        var route = path.Length > Prefix.Length ? path[Prefix.Length..].TrimEnd('/') : string.Empty;
        return route switch
        {
            "" or "/counters" => "GET",
            "/settings" => "GET, POST",
            _ when route.StartsWith("/clients/", StringComparison.Ordinal) || route.StartsWith("/users/", StringComparison.Ordinal) => "DELETE",
            _ => "POST",
        };
    }
}
