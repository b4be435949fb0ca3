using System.Text.Json;
using RapidSos.Http.Auth.Emulator.Contracts;
using RapidSos.Http.Auth.Testing;

namespace RapidSos.Http.Auth.Emulator;

/// <summary>
/// Turns a <see cref="FaultRequest"/> into the <see cref="EmulatorFault"/> it describes, one kind per factory of
/// <see cref="EmulatorFault"/>. A field the kind does not use is refused rather than ignored, so a request never means
/// less than it says.
/// </summary>
internal static class FaultBuilder
{
    /// <summary>The most copies one request may queue.</summary>
    public const int MaxCount = 1000;

    // The fields each kind uses, besides "kind", "count" and "client", which every kind accepts, and "stall",
    // which every kind accepts as a hold before the fault (WithLatency), and kind stall as its duration.
    private static readonly Dictionary<string, (string Name, string[] Fields)> Kinds = new(StringComparer.OrdinalIgnoreCase)
    {
        ["status"] = ("status", ["status", "body", "contentType", "retryAfter"]),
        ["detail"] = ("detail", ["status", "detail", "retryAfter"]),
        ["invalidClient"] = ("invalidClient", ["retryAfter"]),
        ["tooManyRequests"] = ("tooManyRequests", ["retryAfter"]),
        ["apigeeFault"] = ("apigeeFault", ["status", "faultstring", "errorcode", "retryAfter"]),
        ["oauthError"] = ("oauthError", ["status", "error", "errorDescription", "retryAfter"]),
        ["html"] = ("html", ["status", "retryAfter"]),
        ["empty"] = ("empty", ["status", "retryAfter"]),
        ["redirect"] = ("redirect", ["status", "location", "retryAfter"]),
        ["malformedJson"] = ("malformedJson", ["retryAfter"]),
        ["connectionReset"] = ("connectionReset", []),
        ["stall"] = ("stall", []),
    };

    /// <summary>The kinds, for error messages and the index.</summary>
    public static string KindList { get; } = string.Join(", ", Kinds.Values.Select(k => k.Name));

    /// <summary>Builds the fault and reads how many to queue.</summary>
    /// <exception cref="ControlApiException">The request is incomplete, contradictory or out of range; the message names the field.</exception>
    public static (EmulatorFault Fault, int Count) Build(FaultRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var kind = ResolveKind(request);
        CheckFields(request, kind);

        var stall = ReadDuration(request.Stall, "stall", allowInfinite: kind == "stall");
        var retryAfter = ReadDuration(request.RetryAfter, "retryAfter", allowInfinite: false);
        var fault = kind switch
        {
            "status" => EmulatorFault.Status(RequireStatus(request, kind), request.Body, request.ContentType ?? "application/json"),
            "detail" => EmulatorFault.Detail(RequireStatus(request, kind), Require(request.Detail, "detail", kind)),
            "invalidClient" => EmulatorFault.InvalidClient(),
            "tooManyRequests" => EmulatorFault.TooManyRequests(retryAfter),
            "apigeeFault" => EmulatorFault.Fault(RequireStatus(request, kind), Require(request.Faultstring, "faultstring", kind), Require(request.Errorcode, "errorcode", kind)),
            "oauthError" => EmulatorFault.OAuthError(RequireStatus(request, kind), Require(request.Error, "error", kind), request.ErrorDescription),
            "html" => EmulatorFault.Html(RequireStatus(request, kind)),
            "empty" => EmulatorFault.Empty(RequireStatus(request, kind)),
            "redirect" => EmulatorFault.Redirect(RequireStatus(request, kind, 300, 399), RequireLocation(request, kind)),
            "malformedJson" => EmulatorFault.MalformedJson(),
            "connectionReset" => EmulatorFault.ConnectionReset(),
            _ => EmulatorFault.Stall(stall ?? throw ControlApiException.BadRequest("kind stall needs \"stall\": how long to hold the request before answering it normally.")),
        };

        if (retryAfter is { } delay && kind != "tooManyRequests")
        {
            fault = fault.WithRetryAfter(delay);
        }

        if (stall is { } hold && kind != "stall")
        {
            fault = fault.WithLatency(hold);
        }

        var count = request.Count ?? 1;
        if (count is < 1 or > MaxCount)
        {
            throw ControlApiException.BadRequest($"\"count\" must be from 1 to {MaxCount}, not {count}.");
        }

        return (fault, count);
    }

    private static string ResolveKind(FaultRequest request)
    {
        if (request.Kind is { } given)
        {
            return Kinds.TryGetValue(given, out var known)
                ? known.Name
                : throw ControlApiException.BadRequest($"Unknown \"kind\" '{given}'; use one of {KindList}.");
        }

        // The short forms: {"status":503,...} is kind status, {"stall":"3s"} alone is kind stall.
        if (request.Status is not null)
        {
            return "status";
        }

        return request.Stall is not null
            ? "stall"
            : throw ControlApiException.BadRequest($"Give a \"kind\" ({KindList}) or at least a \"status\".");
    }

    private static void CheckFields(FaultRequest request, string kind)
    {
        var allowed = Kinds[kind].Fields;
        (string Name, bool Present)[] fields =
        [
            ("status", request.Status is not null),
            ("body", request.Body is not null),
            ("contentType", request.ContentType is not null),
            ("detail", request.Detail is not null),
            ("faultstring", request.Faultstring is not null),
            ("errorcode", request.Errorcode is not null),
            ("error", request.Error is not null),
            ("errorDescription", request.ErrorDescription is not null),
            ("location", request.Location is not null),
            ("retryAfter", request.RetryAfter is not null),
        ];
        foreach (var (name, present) in fields)
        {
            if (present && !allowed.Contains(name, StringComparer.Ordinal))
            {
                var why = name == "retryAfter" ? " (it sends no answer to carry the header)" : string.Empty;
                throw ControlApiException.BadRequest($"\"{name}\" does not apply to kind {kind}{why}.");
            }
        }

        if (request.ContentType is not null && request.Body is null)
        {
            throw ControlApiException.BadRequest("\"contentType\" needs a \"body\".");
        }
    }

    private static int RequireStatus(FaultRequest request, string kind, int min = 200, int max = 599)
    {
        var status = request.Status ?? throw ControlApiException.BadRequest($"kind {kind} needs a \"status\" from {min} to {max}.");
        return status >= min && status <= max
            ? status
            : throw ControlApiException.BadRequest($"\"status\" must be from {min} to {max}, not {status}.");
    }

    private static string Require(string? value, string name, string kind) =>
        value ?? throw ControlApiException.BadRequest($"kind {kind} needs \"{name}\".");

    private static Uri RequireLocation(FaultRequest request, string kind)
    {
        var location = Require(request.Location, "location", kind);
        // "/path" is an absolute file URI on Unix: only http and https are meant here.
        return Uri.TryCreate(location, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw ControlApiException.BadRequest($"\"location\" must be an absolute http or https URI, not '{location}'.");
    }

    /// <summary>Reads a duration field: a JSON number of seconds, or a string in the <see cref="Durations"/> syntax.</summary>
    /// <exception cref="ControlApiException">The value is neither, or is beyond <paramref name="max"/> (by default <see cref="ControlApi.MaxDelay"/>).</exception>
    internal static TimeSpan? ReadDuration(JsonElement? element, string name, bool allowInfinite, TimeSpan? max = null)
    {
        if (element is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (allowInfinite && value.ValueKind == JsonValueKind.String && string.Equals(value.GetString(), "infinite", StringComparison.OrdinalIgnoreCase))
        {
            return Timeout.InfiniteTimeSpan;
        }

        if (!TryRead(value, out var duration))
        {
            var infinite = allowInfinite ? ", or \"infinite\"" : string.Empty;
            throw ControlApiException.BadRequest($"\"{name}\" must be seconds as a number, or {Durations.Syntax}{infinite}; not {value.GetRawText()}.");
        }

        var limit = max ?? ControlApi.MaxDelay;
        return duration <= limit
            ? duration
            : throw ControlApiException.BadRequest($"\"{name}\" must be at most {Durations.Format(limit)}, not {value.GetRawText()}.");
    }

    private static bool TryRead(JsonElement value, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetDouble(out var seconds) && Durations.FromSeconds(seconds, out duration),
            JsonValueKind.String => Durations.TryParse(value.GetString(), out duration),
            _ => false,
        };
    }
}
