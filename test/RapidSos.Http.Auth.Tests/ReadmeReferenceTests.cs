using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using RapidSos.Http.Auth.Internal;

namespace RapidSos.Http.Auth.Tests;

/// <summary>The README's reference tables (log events, metrics) against the code, so neither drifts from the other.</summary>
public sealed class ReadmeReferenceTests
{
    private static readonly string s_readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));

    [Test]
    public void Logging_EveryEventIdOfTheCode_IsListedWithItsLevel()
    {
        var logging = Regex.Match(s_readme, @"- \*\*Logging\.\*\*(?<text>.*?)(\n- \*\*|\n\n)", RegexOptions.Singleline).Groups["text"].Value;
        var listed = Regex.Matches(Regex.Replace(logging, @"\s+", " "), @"(?<id>\d+) [^,(]+\((?<level>Trace|Debug|Information|Warning|Error|Critical)")
            .ToDictionary(m => int.Parse(m.Groups["id"].Value, System.Globalization.CultureInfo.InvariantCulture), m => m.Groups["level"].Value);

        var events = typeof(Log).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
            .OfType<LoggerMessageAttribute>()
            .ToDictionary(a => a.EventId, a => a.Level.ToString());

        Assert.That(listed, Is.EquivalentTo(events));
    }

    [Test]
    public void Observability_EveryInstrumentOfTheCode_IsInTheTable()
    {
        using var metrics = new RapidSosAuthMetrics(meterFactory: null);
        var instruments = typeof(RapidSosAuthMetrics).GetProperties()
            .Where(p => typeof(System.Diagnostics.Metrics.Instrument).IsAssignableFrom(p.PropertyType))
            .Select(p => ((System.Diagnostics.Metrics.Instrument)p.GetValue(metrics)!).Name)
            .ToList();
        var documented = Regex.Matches(s_readme, @"^\| `(?<name>rapidsos\.auth\.[a-z_.]+)` \|", RegexOptions.Multiline).Select(m => m.Groups["name"].Value).ToList();

        Assert.That(documented, Is.EquivalentTo(instruments));
    }

    [Test]
    public void Logging_CategoriesNamedInTheReadme_AreTheOnesTheLibraryLogsUnder()
    {
        Assert.Multiple(() =>
        {
            Assert.That(s_readme, Does.Contain("under the category `RapidSos.Http.Auth`"));
            Assert.That(s_readme, Does.Contain($"under `{typeof(BearerTokenHandler).FullName}`"));
        });
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RapidSos.Http.Auth.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (RapidSos.Http.Auth.sln) is not above the test's directory.");
    }
}
