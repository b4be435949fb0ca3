using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;

namespace RapidSos.Http.Auth.Emulator.Tests;

/// <summary>
/// The emulator as a team runs it: a real process (<c>dotnet RapidSos.Http.Auth.Emulator.dll --port 0 ...</c>), found
/// through what it prints, used by an app with the library, driven through the control API, stopped with SIGTERM.
/// </summary>
[NonParallelizable]
public sealed class ProcessSmokeTests
{
    private const string ClientId = "smoke-client";
    private const string Secret = "smoke-secret-Ue57";

    [Test]
    public async Task Process_AppWithTheLibrary_GetsTokenIsRevokedThroughTheControlApiAndRecovers()
    {
        var output = new StringBuilder();
        var error = new StringBuilder();
        using var process = StartEmulator(output, error, "--port", "0", "--client", $"{ClientId}:{Secret}");
        try
        {
            await Poll.UntilAsync(() => Read(output).Contains("Stop with Ctrl+C", StringComparison.Ordinal) || process.HasExited, "the emulator's banner");
            Assert.That(process.HasExited, Is.False, $"the emulator exited: {Read(error)}");
            var gateway = EmulatorCommandTests.Address(Read(output), "Gateway");
            var control = EmulatorCommandTests.Address(Read(output), "Control API");

            var services = new ServiceCollection();
            services.AddRapidSosAuthentication(o =>
            {
                o.BaseAddress = gateway;
                o.ClientId = ClientId;
                o.ClientSecret = Secret;
            });
            services.AddHttpClient("app", c => c.BaseAddress = gateway).AddRapidSosBearerToken();
            await using var provider = services.BuildServiceProvider();
            var app = provider.GetRequiredService<IHttpClientFactory>().CreateClient("app");
            using var controlClient = new HttpClient { BaseAddress = control };

            using var first = await app.GetAsync("v1/ping");
            using var revoke = await controlClient.PostAsync("revoke", null);
            using var afterRevocation = await app.GetAsync("v1/ping");
            var counters = await controlClient.GetStringAsync("counters");

            Assert.Multiple(() =>
            {
                Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                Assert.That(revoke.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                Assert.That(afterRevocation.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the library took a new token after the 401");

                // Three API requests: the first, the one refused 401 with the revoked token, its retry with a new token.
                Assert.That(counters, Is.EqualTo("""{"tokenRequests":2,"successfulTokenRequests":2,"apiRequests":3,"unauthorized":1}"""));
            });
        }
        finally
        {
            await StopAsync(process);
        }

        Assert.Multiple(() =>
        {
            Assert.That(Read(output), Does.EndWith("Stopped." + Environment.NewLine), "a graceful stop");
            Assert.That(process.ExitCode, Is.Zero, Read(error));
            Assert.That(Read(output) + Read(error), Does.Not.Contain(Secret));
        });
    }

    [Test]
    public async Task Process_BadArgument_ExitsWithTwoAndNamesIt()
    {
        var output = new StringBuilder();
        var error = new StringBuilder();
        using var process = StartEmulator(output, error, "--token-lifetime", "forever", "--client", $"{ClientId}:{Secret}");

        await process.WaitForExitAsync();

        Assert.Multiple(() =>
        {
            Assert.That(process.ExitCode, Is.EqualTo(2));
            Assert.That(Read(error), Does.Contain("--token-lifetime must be a duration"));
            Assert.That(Read(output) + Read(error), Does.Not.Contain(Secret));
        });
    }

    private static Process StartEmulator(StringBuilder output, StringBuilder error, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "RapidSos.Http.Auth.Emulator.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Stops the emulator as a service manager would, with SIGTERM (Windows has none: the process is killed).</summary>
    private static async Task StopAsync(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        if (OperatingSystem.IsWindows() || !await SendSigTermAsync(process.Id))
        {
            process.Kill(entireProcessTree: true);
        }

        // A safety net against a hang, not a timing expectation.
        using var safetyNet = new CancellationTokenSource(Poll.DefaultTimeout);
        try
        {
            await process.WaitForExitAsync(safetyNet.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (text)
        {
            text.Append(line).Append(Environment.NewLine);
        }
    }

    private static string Read(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    private static async Task<bool> SendSigTermAsync(int pid)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false });
        if (kill is null)
        {
            return false;
        }

        await kill.WaitForExitAsync();
        return kill.ExitCode == 0;
    }
}
