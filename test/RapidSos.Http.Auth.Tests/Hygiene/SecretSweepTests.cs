using System.Collections;
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace RapidSos.Http.Auth.Tests.Hygiene;

/// <summary>
/// Issue 10, item 1, as a generated sweep: a gateway on real Kestrel echoes a secret of the registration (the
/// client secret, the password or the Basic credentials it received, one per registration, see
/// <see cref="EchoedField"/>) in every spelling it can take on the wire or in JSON (<see cref="EchoSpelling"/>), in
/// every known and unknown body shape (<see cref="EchoShape"/>), at every error status, and in unusable 200 token
/// responses that also carry the token it pretends to issue; eight generated credential sets
/// (<see cref="SweepProfile"/>), both client-authentication modes, both grants. Every exception's message,
/// <c>ToString()</c>, detail and data (inner ones too), every log at Trace with its structured state and scopes,
/// every activity's status, tags and events, every metric tag, the health check's report and the options'
/// <c>ToString()</c> are searched by <see cref="LeakOracle"/>, which shares no code with the library's scrubber.
/// Zero hits, and no text at all from an unknown shape (<see cref="EchoText.Marker"/>).
/// </summary>
/// <remarks>
/// 8 profiles x 4 registrations x 10 spellings x 26 shapes = 8320 token requests, each searched in every sink.
/// Each test names every leaking combination; with RAPIDSOS_SWEEP_REPORT set to a file, every leak is appended
/// to it as a tab-separated line.
/// </remarks>
public class SecretSweepTests
{
    private const string Registration = "sweep";
    private const string ReportVariable = "RAPIDSOS_SWEEP_REPORT";

    private EchoGateway _gateway = null!;

    /// <summary>Every registration the sweep runs: each profile with both client-authentication modes and both grants.</summary>
    public static IEnumerable<TestCaseData> Registrations() =>
        from profile in SweepProfile.All
        from authentication in new[] { RapidSosClientAuthentication.FormFields, RapidSosClientAuthentication.BasicHeader }
        from grant in new[] { RapidSosGrantType.ClientCredentials, RapidSosGrantType.Password }
        select new TestCaseData(profile.Name, authentication, grant);

    [OneTimeSetUp]
    public async Task StartGatewayAsync() => _gateway = await EchoGateway.StartAsync();

    [OneTimeTearDown]
    public async Task StopGatewayAsync() => await _gateway.DisposeAsync();

    [TestCaseSource(nameof(Registrations))]
    public async Task GatewayEchoingSecrets_EverySpellingShapeAndStatus_NoSinkShowsAnySecret(string profileName, RapidSosClientAuthentication authentication, RapidSosGrantType grant)
    {
        var profile = SweepProfile.Named(profileName);
        var oracle = new LeakOracle(profile);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
        using var sinks = new SinkRecorder(_gateway.BaseAddress.Port);
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(sinks));
        services.AddMetrics();
        services.AddSingleton<TimeProvider>(time);
        services.AddRapidSosAuthentication(Registration, o =>
        {
            o.BaseAddress = _gateway.BaseAddress;
            o.ClientId = profile.ClientId;
            o.ClientSecret = profile.ClientSecret.Value;
            o.ClientAuthentication = authentication;
            o.GrantType = grant;
            if (grant == RapidSosGrantType.Password)
            {
                o.Username = profile.Username;
                o.Password = profile.Password.Value;
            }
        });
        services.AddHttpClient("sweep-api").AddRapidSosBearerToken(Registration);
        services.AddHealthChecks().AddRapidSosTokenCheck(Registration);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var api = provider.GetRequiredService<IHttpClientFactory>().CreateClient("sweep-api");
        var health = provider.GetRequiredService<HealthCheckService>();

        var leaks = new List<Leak>();
        var problems = new List<string>();
        var clock = Stopwatch.StartNew();
        var optionsText = provider.GetRequiredService<IOptionsMonitor<RapidSosAuthOptions>>().Get(Registration).ToString();
        leaks.AddRange(oracle.Find(optionsText).Select(hit => new Leak("-", "-", "-", 0, "RapidSosAuthOptions.ToString()", hit)));

        var cases = 0;
        var requestsAtStart = _gateway.TokenRequests;
        var rotation = SweepProfile.All.ToList().IndexOf(profile);
        var (field, valueOf) = EchoedField(profile, authentication, grant);
        for (var spellingIndex = 0; spellingIndex < EchoSpelling.All.Count; spellingIndex++)
        {
            for (var shapeIndex = 0; shapeIndex < EchoShape.All.Count; shapeIndex++)
            {
                // Every shape meets every error status across the spellings.
                var (spelling, shape) = (EchoSpelling.All[spellingIndex], EchoShape.All[shapeIndex]);
                var status = shape.StatusFor(rotation + spellingIndex + shapeIndex);
                cases++;
                var label = $"{field} {spelling} in {shape} ({(int)status})";
                string? body = null;
                _gateway.AnswerWith(authorization =>
                {
                    body = shape.Body(new EchoText(spelling, field, valueOf(authorization), profile.Token.Value));
                    return new EchoAnswer((int)status, shape.ContentType, body, status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable ? 30 : null);
                });

                // Past every back-off and Retry-After window, so this case meets a token request of its own.
                time.Advance(TimeSpan.FromMinutes(10));
                var requestsBefore = _gateway.TokenRequests;
                var texts = new List<(string Sink, string Text)>();
                try
                {
                    using var response = await api.GetAsync("v1/ping");
                    problems.Add($"{label}: the API call succeeded, so no token failure was swept");
                }
                catch (Exception ex)
                {
                    AddException(texts, "caller exception", ex);
                }

                // Refused or rate-limited, the health check fails at once with the copy of the failure a caller
                // inside the refusal window gets (after a 500 or an unusable 200 it would wait for the next token
                // request, on the fake clock). The copy is the same whatever the status: two of them suffice.
                if (status is HttpStatusCode.Unauthorized or HttpStatusCode.ServiceUnavailable)
                {
                    var report = await health.CheckHealthAsync();
                    foreach (var (name, entry) in report.Entries)
                    {
                        texts.Add(($"health check {name} description", entry.Description ?? string.Empty));
                        texts.AddRange(entry.Data.Select(d => ($"health check {name} data {d.Key}", SinkRecorder.Format(d.Value))));
                        if (entry.Exception is { } exception)
                        {
                            AddException(texts, $"health check {name} exception", exception);
                        }
                    }
                }

                await Poll.UntilAsync(() => sinks.TokenRequestsTraced >= _gateway.TokenRequests - requestsAtStart, $"the telemetry of {label}");
                if (_gateway.TokenRequests == requestsBefore)
                {
                    problems.Add($"{label}: no token request reached the gateway");
                }

                if (body is null || !oracle.FindInBody(body).Any())
                {
                    problems.Add($"{label}: the body carries no secret the oracle can find, so the case proves nothing: {body}");
                }

                texts.AddRange(sinks.Drain());
                var everything = string.Join("\n", texts.Select(t => t.Text));
                if (!oracle.Find(everything).Any() && (shape.EchoInKnownField || !everything.Contains(EchoText.Marker, StringComparison.Ordinal)))
                {
                    continue;
                }

                foreach (var (sink, text) in texts)
                {
                    leaks.AddRange(oracle.Find(text).Select(hit => new Leak(field, spelling.Name, shape.Name, (int)status, sink, hit)));
                    var marker = text.IndexOf(EchoText.Marker, StringComparison.Ordinal);
                    if (!shape.EchoInKnownField && marker >= 0)
                    {
                        leaks.Add(new Leak(field, spelling.Name, shape.Name, (int)status, sink,
                            new LeakHit("text of an unknown shape", "the echo's marker", LeakOracle.Excerpt(text, marker, EchoText.Marker.Length))));
                    }
                }
            }
        }

        WriteReport(profile, authentication, grant, leaks);
        TestContext.Out.WriteLine($"{cases} echo cases, {_gateway.TokenRequests - requestsAtStart} token requests, {sinks.Logs} logs, {sinks.Measurements} measurements, {leaks.Count} leaks, {clock.ElapsedMilliseconds} ms");
        Assert.That(problems, Is.Empty, "the sweep itself is broken");
        Assert.That(sinks.Logs, Is.GreaterThanOrEqualTo(cases), "every failed token request logs");
        Assert.That(sinks.Measurements, Is.GreaterThanOrEqualTo(cases), "every token request is measured");
        Assert.That(leaks, Is.Empty, () => LeakReport(profile, authentication, grant, cases, leaks));
    }

    /// <summary>
    /// The request field whose secret the gateway echoes in a registration: one per registration, so the sweep
    /// stays at a few seconds while every secret of every profile is echoed, the client secret in both
    /// client-authentication modes and both grants.
    /// </summary>
    private static (string Field, Func<string?, string> ValueOf) EchoedField(SweepProfile profile, RapidSosClientAuthentication authentication, RapidSosGrantType grant) =>
        (authentication, grant) switch
        {
            (RapidSosClientAuthentication.FormFields, RapidSosGrantType.Password) => ("password", _ => profile.Password.Value),

            // What the library actually sent, so the echo is whatever Base64 form it chose.
            (RapidSosClientAuthentication.BasicHeader, RapidSosGrantType.ClientCredentials) => ("Authorization", received => received ?? "(no Authorization header was sent)"),
            _ => ("client_secret", _ => profile.ClientSecret.Value),
        };

    private static void AddException(List<(string Sink, string Text)> texts, string sink, Exception exception)
    {
        texts.Add(($"{sink} {exception.GetType().Name}.Message", exception.Message));
        texts.Add(($"{sink} {exception.GetType().Name}.ToString()", exception.ToString()));
        if (exception is RapidSosAuthenticationException authentication)
        {
            texts.Add(($"{sink} Detail", authentication.Detail ?? string.Empty));
            texts.Add(($"{sink} TokenEndpoint", authentication.TokenEndpoint?.ToString() ?? string.Empty));
        }

        foreach (DictionaryEntry entry in exception.Data)
        {
            texts.Add(($"{sink} Data", $"{SinkRecorder.Format(entry.Key)}={SinkRecorder.Format(entry.Value)}"));
        }

        var inner = exception is AggregateException aggregate ? aggregate.InnerExceptions : (IEnumerable<Exception>)(exception.InnerException is { } one ? [one] : []);
        foreach (var cause in inner)
        {
            AddException(texts, $"{sink} inner", cause);
        }
    }

    private static string LeakReport(SweepProfile profile, RapidSosClientAuthentication authentication, RapidSosGrantType grant, int cases, List<Leak> leaks)
    {
        var text = new StringBuilder()
            .AppendLine($"{leaks.Count} leak(s) in {cases} echo cases of profile '{profile}' ({authentication}, {grant}). Leaking combinations, by shape:");
        foreach (var shape in leaks.GroupBy(l => l.Shape))
        {
            text.Append("  ").Append(shape.Key).Append(": ")
                .AppendJoin("; ", shape.GroupBy(l => $"{l.Field} echo -> {l.Hit.Secret}").Select(g =>
                    $"{g.Key} [{string.Join(", ", g.Select(l => l.Spelling).Distinct())}] in [{string.Join(", ", g.Select(l => SinkKind(l.Sink)).Distinct())}]"))
                .AppendLine();
        }

        text.AppendLine("The first leaking cases, each with its first sink:");
        foreach (var leaking in leaks.GroupBy(l => (l.Field, l.Spelling, l.Shape, l.Hit.Secret)).Take(25))
        {
            var leak = leaking.First();
            text.AppendLine($"  {leak.Field} {leak.Spelling} in {leak.Shape} ({leak.Status}) -> {leak.Hit.Secret}, {leak.Hit.How}, in {leak.Sink} " +
                $"(and {leaking.Count() - 1} more sink(s)): {leak.Hit.Excerpt}");
        }

        return text.ToString();
    }

    /// <summary>The kind of sink, for the summary: the full sink is in each leak's line.</summary>
    private static string SinkKind(string sink) =>
        new[] { "caller exception", "health check", "log", "activity", "metric", "RapidSosAuthOptions" }.First(kind => sink.StartsWith(kind, StringComparison.Ordinal));

    /// <summary>With RAPIDSOS_SWEEP_REPORT set to a file, every leak is appended to it as a tab-separated line.</summary>
    private static void WriteReport(SweepProfile profile, RapidSosClientAuthentication authentication, RapidSosGrantType grant, List<Leak> leaks)
    {
        if (Environment.GetEnvironmentVariable(ReportVariable) is not { Length: > 0 } path)
        {
            return;
        }

        File.AppendAllLines(path, leaks.Select(l => string.Join('\t',
            profile.Name, authentication, grant, l.Field, l.Spelling, l.Shape, l.Status, SinkKind(l.Sink), l.Sink, l.Hit.Secret, l.Hit.How, l.Hit.Excerpt)));
    }

    private sealed record Leak(string Field, string Spelling, string Shape, int Status, string Sink, LeakHit Hit);
}
