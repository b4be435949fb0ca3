using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace RapidSos.Http.Auth.Emulator.Tests;

/// <summary>The process's logic, run in-process: help, exit codes, what it prints, and the stop.</summary>
public sealed class EmulatorCommandTests
{
    private const string Secret = "cmd-secret-Lq73";
    private const string Password = "cmd-password-Rv19";

    [TestCase("--help")]
    [TestCase("-h")]
    [TestCase("-?")]
    public async Task RunAsync_Help_PrintsUsageAndReturnsZero(string help)
    {
        using var output = new SynchronizedOutput();
        using var error = new SynchronizedOutput();

        var exitCode = await EmulatorCommand.RunAsync(["--port", "not-a-port", help], output.Writer, error.Writer, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero);
            Assert.That(output.Text, Does.Contain("usage: RapidSos.Http.Auth.Emulator [options]").And.Contain("--client <id:secret>").And.Contain("development and tests only"));
            Assert.That(output.Text, Does.Not.Contain("emulator-secret").And.Not.Contain("emulator-password"), "even the default secret is not printed");
            Assert.That(error.Text, Is.Empty);
        });
    }

    [TestCase(new[] { "--port", "x" }, "--port")]
    [TestCase(new[] { "--bogus" }, "--bogus")]
    [TestCase(new[] { "--client", Secret }, "--client #1")]
    public async Task RunAsync_BadArguments_ReturnsTwoAndNamesTheArgument(string[] args, string named)
    {
        using var output = new SynchronizedOutput();
        using var error = new SynchronizedOutput();

        var exitCode = await EmulatorCommand.RunAsync(args, output.Writer, error.Writer, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(2));
            Assert.That(error.Text, Does.StartWith("error: ").And.Contain(named).And.Contain("--help"));
            Assert.That(error.Text, Does.Not.Contain(Secret));
            Assert.That(output.Text, Is.Empty);
        });
    }

    [TestCase("--port")]
    [TestCase("--control-port")]
    public async Task RunAsync_PortInUse_ReturnsOneNamingTheOption(string option)
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;
        string[] args = option == "--port" ? ["--port", $"{port}", "--control-port", "0"] : ["--port", "0", "--control-port", $"{port}"];
        using var output = new SynchronizedOutput();
        using var error = new SynchronizedOutput();

        var exitCode = await EmulatorCommand.RunAsync(args, output.Writer, error.Writer, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(1));
            Assert.That(error.Text, Does.StartWith($"error: Cannot listen on 127.0.0.1:{port} ({option})"));
            Assert.That(output.Text, Is.Empty);
        });
    }

    [Test]
    public async Task RunAsync_Running_PrintsWhereItListensServesUntilCancelledThenStops()
    {
        using var output = new SynchronizedOutput();
        using var error = new SynchronizedOutput();
        using var stop = new CancellationTokenSource();
        string[] args = ["--port", "0", "--client", $"agency-a:{Secret}", "--user", $"agency-a:tc@agency-a.example:{Password}", "--token-lifetime", "90s"];

        var run = EmulatorCommand.RunAsync(args, output.Writer, error.Writer, stop.Token);
        await Poll.UntilAsync(() => output.Text.Contains("Stop with Ctrl+C", StringComparison.Ordinal) || run.IsCompleted, "the banner");
        var banner = output.Text;
        var gateway = Address(banner, "Gateway");
        var control = Address(banner, "Control API");
        using var http = new HttpClient();
        using var counters = await http.GetAsync(new Uri(control, "counters"));
        await stop.CancelAsync();
        var exitCode = await run;

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero, error.Text);
            Assert.That(gateway.Host, Is.EqualTo("127.0.0.1"));
            Assert.That(gateway.Port, Is.Not.Zero);
            Assert.That(control.AbsolutePath, Is.EqualTo("/_emulator/"));
            Assert.That(banner, Does.Contain($"{gateway}oauth/token").And.Contain($"{gateway}oauth/v2/token").And.Contain($"{gateway}v1/ping"));
            Assert.That(banner, Does.Contain("agency-a").And.Contain("tc@agency-a.example (client agency-a)").And.Contain("lifetime 90s"));
            Assert.That(banner, Does.Contain("development and tests only").And.Contain("127.0.0.1 only"));
            Assert.That(counters.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(output.Text, Does.EndWith("Stopping." + Environment.NewLine + "Stopped." + Environment.NewLine));
            Assert.That(output.Text + error.Text, Does.Not.Contain(Secret).And.Not.Contain(Password));
        });
        Assert.That(() => http.GetAsync(gateway), Throws.InstanceOf<HttpRequestException>(), "the gateway stopped listening");
    }

    [Test]
    public async Task RunAsync_DefaultCredentials_NamesThemButNotTheirSecret()
    {
        using var output = new SynchronizedOutput();
        using var error = new SynchronizedOutput();
        using var stop = new CancellationTokenSource();

        var run = EmulatorCommand.RunAsync(["--port", "0"], output.Writer, error.Writer, stop.Token);
        await Poll.UntilAsync(() => output.Text.Contains("Stop with Ctrl+C", StringComparison.Ordinal) || run.IsCompleted, "the banner");
        await stop.CancelAsync();
        var exitCode = await run;

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero, error.Text);
            Assert.That(output.Text, Does.Contain("emulator-client").And.Contain("emulator-user (any client)"));
            Assert.That(output.Text, Does.Not.Contain("emulator-secret").And.Not.Contain("emulator-password"));
        });
    }

    [Test]
    public async Task RunAsync_CancelledBeforeStart_ReturnsZeroWithoutListening()
    {
        using var output = new SynchronizedOutput();
        using var error = new SynchronizedOutput();

        var exitCode = await EmulatorCommand.RunAsync(["--port", "0"], output.Writer, error.Writer, new CancellationToken(canceled: true));

        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero);
            Assert.That(output.Text, Does.Not.Contain("Gateway:"));
        });
    }

    /// <summary>Reads an address from the banner's "Label:  http://..." line, as a script would.</summary>
    internal static Uri Address(string banner, string label)
    {
        var match = Regex.Match(banner, $@"^\s*{Regex.Escape(label)}:\s+(\S+)", RegexOptions.Multiline);
        Assert.That(match.Success, Is.True, $"no '{label}:' line in:\n{banner}");
        return new Uri(match.Groups[1].Value);
    }
}
