using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;

/// <summary>
/// A real <c>redis-server</c> for tests: started from the PATH on a free 127.0.0.1 port with its own temporary
/// directory and no persistence, ready once it answers PING, and killed (its directory deleted) on dispose. It can be
/// killed and started again on the same port mid-test, as a crash and a restart of Redis would be.
/// </summary>
/// <remarks>
/// A missing <c>redis-server</c> is a failure, not a skip: CI must install it (<c>.ci/run</c> does), and a
/// silently skipped suite would hide that. A server outlives its test process only if that process is killed
/// before <see cref="DisposeAsync"/> runs.
/// </remarks>
public sealed class RedisServer : IAsyncDisposable
{
    public const string ExecutableName = "redis-server";

    private const int PortAttempts = 5;
    private const int LogLinesKept = 50;
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(10);

    private readonly string _executable;
    private readonly string _directory;
    private readonly ConcurrentQueue<string> _log = new();
    private Process? _process;

    private RedisServer(string executable, string directory, int port)
    {
        _executable = executable;
        _directory = directory;
        Port = port;
    }

    /// <summary>The loopback port the server listens on, kept across <see cref="KillAsync"/> and <see cref="StartAgainAsync"/>.</summary>
    public int Port { get; }

    /// <summary>The server's own temporary directory (its working directory and <c>--dir</c>), deleted on dispose.</summary>
    public string DataDirectory => _directory;

    /// <summary>A StackExchange.Redis configuration string for this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>Whether the server process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts a server on a free port and waits until it answers PING.</summary>
    /// <param name="searchPath">Where to look for <c>redis-server</c>: the PATH unless given (for the test of a missing server).</param>
    /// <exception cref="InvalidOperationException"><c>redis-server</c> is not installed, or did not start.</exception>
    public static async Task<RedisServer> StartAsync(string? searchPath = null)
    {
        var executable = Find(searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            ?? throw new InvalidOperationException(
                $"'{ExecutableName}' is not on the PATH, and these tests need a real Redis server. Install it " +
                "(Debian/Ubuntu: apt-get install redis-server); .ci/run installs it when it is missing.");

        for (var attempt = 1; ; attempt++)
        {
            var directory = Directory.CreateTempSubdirectory("rapidsos-redis-").FullName;
            var server = new RedisServer(executable, directory, FreePort());
            bool launched;
            try
            {
                launched = await server.TryLaunchAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }

            if (launched)
            {
                return server;
            }

            // Most likely another process took the port between FreePort and the server's bind: try another.
            var log = server.LogTail();
            await server.DisposeAsync();
            if (attempt == PortAttempts)
            {
                throw new InvalidOperationException($"'{executable}' exited at start {PortAttempts} times; its last output:{Environment.NewLine}{log}");
            }
        }
    }

    /// <summary>Kills the server at once (SIGKILL), as a crash would: clients see their connections drop.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    /// <summary>
    /// Stops the server without closing anything (SIGSTOP), as a stalled Redis would be: connections stay open and
    /// commands are accepted by the kernel but never answered, until <see cref="ResumeAsync"/>.
    /// </summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>Lets a paused server go on (SIGCONT): it answers the commands it was sent meanwhile.</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    /// <summary>Starts the server again on the same port and directory, empty (nothing was persisted), and waits until it answers PING.</summary>
    /// <exception cref="InvalidOperationException">The server is running, or did not start.</exception>
    public async Task StartAgainAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("The Redis server is still running: kill it first.");
        }

        if (!await TryLaunchAsync())
        {
            throw new InvalidOperationException($"'{_executable}' did not start again on port {Port}; its last output:{Environment.NewLine}{LogTail()}");
        }
    }

    /// <summary>Kills the server and deletes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        _process = null;
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>Sends PING on a fresh connection; true if the server answers PONG.</summary>
    public bool Ping()
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 1000, SendTimeout = 1000 };
            socket.Connect(IPAddress.Loopback, Port);
            socket.Send("PING\r\n"u8);
            var reply = new byte[16];
            var read = socket.Receive(reply);
            return reply.AsSpan(0, read).StartsWith("+PONG"u8);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task SignalAsync(string signal)
    {
        if (_process is not { HasExited: false } process)
        {
            throw new InvalidOperationException("The Redis server is not running.");
        }

        using var kill = Process.Start(new ProcessStartInfo("kill")
        {
            ArgumentList = { signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            UseShellExecute = false,
        })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {process.Id} exited with {kill.ExitCode}.");
        }
    }

    private static string? Find(string searchPath) =>
        searchPath.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, ExecutableName))
            .FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<bool> TryLaunchAsync()
    {
        var start = new ProcessStartInfo(_executable)
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--dir", _directory,
            "--save", string.Empty,
            "--appendonly", "no",
            "--protected-mode", "yes",
            "--daemonize", "no",
        })
        {
            start.ArgumentList.Add(argument);
        }

        _process?.Dispose();
        var process = _process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await Poll.UntilAsync(() => process.HasExited || Ping(), $"redis-server to answer PING on 127.0.0.1:{Port}", s_readyTimeout);
        }
        catch (TimeoutException e)
        {
            await KillAsync();
            throw new InvalidOperationException($"{e.Message} Its last output:{Environment.NewLine}{LogTail()}", e);
        }

        return !process.HasExited;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
        while (_log.Count > LogLinesKept && _log.TryDequeue(out _))
        {
        }
    }

    private string LogTail()
    {
        var builder = new StringBuilder();
        foreach (var line in _log)
        {
            builder.AppendLine(line);
        }

        return builder.ToString();
    }
}
