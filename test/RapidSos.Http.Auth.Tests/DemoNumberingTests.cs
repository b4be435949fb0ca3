using System.Text.RegularExpressions;

namespace RapidSos.Http.Auth.Tests;

/// <summary>The demo's comments number its steps as its output does (a reader follows one with the other).</summary>
public sealed class DemoNumberingTests
{
    [Test]
    public void Walkthrough_EachStepsComment_HasTheNumberItPrints()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "RapidSos.Http.Auth.sln")))
        {
            root = root.Parent;
        }

        var lines = File.ReadAllLines(Path.Combine(root!.FullName, "samples", "RapidSos.Http.Auth.Demo", "EmulatorWalkthrough.cs"));
        var pairs = new List<(int Comment, int Printed)>();
        for (var i = 1; i < lines.Length; i++)
        {
            var printed = Regex.Match(lines[i], @"Out\.Step\((\d+),");
            // The step's comment is just above it, or above the block the step opens.
            var comment = Enumerable.Range(Math.Max(0, i - 3), Math.Min(3, i)).Reverse()
                .Select(j => Regex.Match(lines[j], @"^\s*// (\d+)\."))
                .FirstOrDefault(m => m.Success) ?? Match.Empty;
            if (printed.Success)
            {
                Assert.That(comment.Success, Is.True, $"line {i + 1}: Out.Step without a numbered comment above it");
                pairs.Add((int.Parse(comment.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(printed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        Assert.That(pairs, Is.Not.Empty);
        Assert.That(pairs.Select(p => p.Comment), Is.EqualTo(pairs.Select(p => p.Printed)));
    }
}
