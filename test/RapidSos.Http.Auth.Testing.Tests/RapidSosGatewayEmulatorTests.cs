using System.Net;
using System.Net.Sockets;

namespace RapidSos.Http.Auth.Testing.Tests;

/// <summary>Creating, addressing and disposing the emulator, and its argument checks.</summary>
public sealed class RapidSosGatewayEmulatorTests
{
    [Test]
    public async Task StartAsync_Defaults_ListensOnLoopbackWithEndpointAddresses()
    {
        await using var emulator = await RapidSosGatewayEmulator.StartAsync();

        Assert.Multiple(() =>
        {
            Assert.That(emulator.IsInMemory, Is.False);
            Assert.That(emulator.BaseAddress.Scheme, Is.EqualTo("http"));
            Assert.That(emulator.BaseAddress.Host, Is.EqualTo("127.0.0.1"));
            Assert.That(emulator.BaseAddress.Port, Is.GreaterThan(0));
            Assert.That(emulator.BaseAddress.AbsolutePath, Is.EqualTo("/"));
            Assert.That(emulator.TokenEndpoint, Is.EqualTo(new Uri(emulator.BaseAddress, "oauth/token")));
            Assert.That(emulator.PasswordTokenEndpoint, Is.EqualTo(new Uri(emulator.BaseAddress, "oauth/v2/token")));
            Assert.That(emulator.ToString(), Does.Contain("Kestrel").And.Contain(emulator.BaseAddress.ToString()));
        });
    }

    [Test]
    public async Task StartAsync_TwoEmulators_GetDistinctPorts()
    {
        await using var first = await RapidSosGatewayEmulator.StartAsync();
        await using var second = await RapidSosGatewayEmulator.StartAsync();

        Assert.That(second.BaseAddress.Port, Is.Not.EqualTo(first.BaseAddress.Port));
    }

    [Test]
    public async Task StartAsync_Port_ListensOnThatPort()
    {
        var port = FreeLoopbackPort();

        await using var emulator = await RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions { Port = port });
        using var client = emulator.CreateClient();
        using var response = await client.PostAsync("oauth/token", new FormUrlEncodedContent([
            new("grant_type", "client_credentials"),
            new("client_id", "emulator-client"),
            new("client_secret", "emulator-secret"),
        ]));

        Assert.Multiple(() =>
        {
            Assert.That(emulator.BaseAddress, Is.EqualTo(new Uri($"http://127.0.0.1:{port}/")));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public void StartAsync_PortInUse_ThrowsIOException()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        Assert.That(
            () => RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions { Port = port }),
            Throws.InstanceOf<IOException>());
    }

    [TestCase(-1)]
    [TestCase(65536)]
    public void StartAsync_PortOutOfRange_ThrowsArgumentExceptionNamingIt(int port)
    {
        Assert.That(
            () => RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions { Port = port }),
            Throws.ArgumentException.With.Message.Contains(nameof(RapidSosGatewayEmulatorOptions.Port)));
    }

    [Test]
    public async Task StartAsync_PlainHttpClientOnTokenEndpoint_IssuesToken()
    {
        await using var emulator = await RapidSosGatewayEmulator.StartAsync();
        using var client = new HttpClient();

        using var response = await client.PostAsync(emulator.TokenEndpoint, new FormUrlEncodedContent([
            new("grant_type", "client_credentials"),
            new("client_id", "emulator-client"),
            new("client_secret", "emulator-secret"),
        ]));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public void CreateInMemory_Defaults_UsesLocalHttpsBaseAddress()
    {
        using var emulator = RapidSosGatewayEmulator.CreateInMemory();

        Assert.Multiple(() =>
        {
            Assert.That(emulator.IsInMemory, Is.True);
            Assert.That(emulator.BaseAddress, Is.EqualTo(new Uri("https://rapidsos-emulator.local/")));
            Assert.That(emulator.TokenEndpoint, Is.EqualTo(new Uri("https://rapidsos-emulator.local/oauth/token")));
            Assert.That(emulator.PasswordTokenEndpoint, Is.EqualTo(new Uri("https://rapidsos-emulator.local/oauth/v2/token")));
            Assert.That(emulator.ToString(), Does.Contain("in memory").And.Contain("https://rapidsos-emulator.local/"));
        });
    }

    [Test]
    public void CreateInMemory_BaseAddressWithoutTrailingSlash_GetsOne()
    {
        using var emulator = RapidSosGatewayEmulator.CreateInMemory(new RapidSosGatewayEmulatorOptions
        {
            InMemoryBaseAddress = new Uri("https://api-sandbox.rapidsos.example/gateway"),
        });

        Assert.That(emulator.TokenEndpoint, Is.EqualTo(new Uri("https://api-sandbox.rapidsos.example/gateway/oauth/token")));
    }

    [Test]
    public async Task CreateHandler_InMemory_ServesAnyHost()
    {
        using var emulator = RapidSosGatewayEmulator.CreateInMemory();
        using var client = new HttpClient(emulator.CreateHandler());

        using var response = await client.PostAsync("https://edx-sandbox.rapidsos.example/oauth/token", new FormUrlEncodedContent([
            new("grant_type", "client_credentials"),
            new("client_id", "emulator-client"),
            new("client_secret", "emulator-secret"),
            new("scope", "alerts"),
        ]));

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(emulator.Requests.Single().Headers["Host"], Is.EqualTo("edx-sandbox.rapidsos.example"));
        });
    }

    [Test]
    public void CreateHandler_InMemorySynchronousSend_IsServed()
    {
        using var emulator = RapidSosGatewayEmulator.CreateInMemory();
        using var client = emulator.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "oauth/token")
        {
            Content = new FormUrlEncodedContent([
                new("grant_type", "client_credentials"),
                new("client_id", "emulator-client"),
                new("client_secret", "emulator-secret"),
            ]),
        };

        using var response = client.Send(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public void CreateHandler_InMemoryRelativeUri_Throws()
    {
        using var emulator = RapidSosGatewayEmulator.CreateInMemory();
        using var invoker = new HttpMessageInvoker(emulator.CreateHandler());
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("v1/ping", UriKind.Relative));

        Assert.That(() => invoker.SendAsync(request, CancellationToken.None), Throws.InvalidOperationException);
    }

    [Test]
    public async Task CreateHandler_Kestrel_ReturnsSocketsHttpHandlerWithoutProxy()
    {
        await using var emulator = await RapidSosGatewayEmulator.StartAsync();

        using var handler = emulator.CreateHandler();

        Assert.That(handler, Is.InstanceOf<SocketsHttpHandler>().With.Property(nameof(SocketsHttpHandler.UseProxy)).False);
    }

    [Test]
    public async Task CreateHandler_AfterDispose_ThrowsObjectDisposedException([Values] EmulatorHosting hosting)
    {
        var emulator = hosting == EmulatorHosting.Kestrel
            ? await RapidSosGatewayEmulator.StartAsync()
            : RapidSosGatewayEmulator.CreateInMemory();

        await emulator.DisposeAsync();

        Assert.That(emulator.CreateHandler, Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public async Task DisposeAsync_Kestrel_StopsListening()
    {
        var emulator = await RapidSosGatewayEmulator.StartAsync();
        var address = emulator.BaseAddress;
        using var client = new HttpClient();

        await emulator.DisposeAsync();
        await emulator.DisposeAsync();

        Assert.That(() => client.GetAsync(new Uri(address, "v1/ping")), Throws.InstanceOf<HttpRequestException>());
    }

    [TestCase(nameof(RapidSosGatewayEmulatorOptions.TokenLifetime))]
    [TestCase(nameof(RapidSosGatewayEmulatorOptions.TokenLatency))]
    [TestCase(nameof(RapidSosGatewayEmulatorOptions.MaxRecordedRequests))]
    [TestCase(nameof(RapidSosGatewayEmulatorOptions.TimeProvider))]
    [TestCase(nameof(RapidSosGatewayEmulatorOptions.TokenTypeValue))]
    [TestCase(nameof(RapidSosGatewayEmulatorOptions.InMemoryBaseAddress))]
    [TestCase(nameof(RapidSosGatewayEmulatorOptions.ClientId))]
    [TestCase(nameof(RapidSosGatewayEmulatorOptions.Port))]
    public void CreateInMemory_InvalidOption_ThrowsArgumentExceptionNamingIt(string option)
    {
        var options = new RapidSosGatewayEmulatorOptions();
        switch (option)
        {
            case nameof(RapidSosGatewayEmulatorOptions.TokenLifetime): options.TokenLifetime = TimeSpan.FromSeconds(-1); break;
            case nameof(RapidSosGatewayEmulatorOptions.TokenLatency): options.TokenLatency = TimeSpan.FromSeconds(-1); break;
            case nameof(RapidSosGatewayEmulatorOptions.MaxRecordedRequests): options.MaxRecordedRequests = -1; break;
            case nameof(RapidSosGatewayEmulatorOptions.TimeProvider): options.TimeProvider = null!; break;
            case nameof(RapidSosGatewayEmulatorOptions.TokenTypeValue): options.TokenTypeValue = null!; break;
            case nameof(RapidSosGatewayEmulatorOptions.InMemoryBaseAddress): options.InMemoryBaseAddress = new Uri("relative", UriKind.Relative); break;
            case nameof(RapidSosGatewayEmulatorOptions.Port): options.Port = 65536; break;
            default: options.ClientId = string.Empty; break;
        }

        Assert.That(() => RapidSosGatewayEmulator.CreateInMemory(options), Throws.ArgumentException.With.Message.Contains(option));
    }

    [Test]
    public void StartAsync_InvalidOption_ThrowsArgumentException()
    {
        Assert.That(
            () => RapidSosGatewayEmulator.StartAsync(new RapidSosGatewayEmulatorOptions { MaxRecordedRequests = -1 }),
            Throws.ArgumentException);
    }

    [Test]
    public void TokenLifetimeAndLatency_Negative_ThrowArgumentOutOfRange()
    {
        using var emulator = RapidSosGatewayEmulator.CreateInMemory();

        Assert.Multiple(() =>
        {
            Assert.That(() => emulator.TokenLifetime = TimeSpan.FromTicks(-1), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => emulator.TokenLatency = Timeout.InfiniteTimeSpan, Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(emulator.TokenLifetime, Is.EqualTo(TimeSpan.FromHours(1)));
            Assert.That(emulator.TokenLatency, Is.EqualTo(TimeSpan.Zero));
        });
    }

    [Test]
    public void Controls_InvalidArguments_Throw()
    {
        using var emulator = RapidSosGatewayEmulator.CreateInMemory();

        Assert.Multiple(() =>
        {
            Assert.That(() => emulator.AddClient(string.Empty, "s"), Throws.ArgumentException);
            Assert.That(() => emulator.AddClient("c", null!), Throws.ArgumentNullException);
            Assert.That(() => emulator.AddUser(null!, "p"), Throws.ArgumentNullException);
            Assert.That(() => emulator.EnqueueFault(null!), Throws.ArgumentNullException);
            Assert.That(() => emulator.EnqueueApiFault(null!), Throws.ArgumentNullException);
            Assert.That(() => emulator.RevokeToken(null!), Throws.ArgumentNullException);
            Assert.That(() => emulator.AddUser(string.Empty, "u", "p"), Throws.ArgumentException);
            Assert.That(() => emulator.AddUser("c", string.Empty, "p"), Throws.ArgumentException);
            Assert.That(() => emulator.AddUser("c", "u", null!), Throws.ArgumentNullException);
            Assert.That(() => emulator.RemoveClient(null!), Throws.ArgumentNullException);
            Assert.That(() => emulator.RemoveUser(string.Empty), Throws.ArgumentException);
            Assert.That(() => emulator.EnqueueFault(string.Empty, EmulatorFault.Empty(500)), Throws.ArgumentException);
            Assert.That(() => emulator.EnqueueFault("c", null!), Throws.ArgumentNullException);
            Assert.That(() => emulator.RevokeClientTokens(string.Empty), Throws.ArgumentException);
            Assert.That(() => emulator.RevokeUserTokens(null!), Throws.ArgumentNullException);
        });
    }

    [Test]
    public async Task Options_NoDefaultClientOrUser_RefusesDefaultCredentials()
    {
        using var emulator = RapidSosGatewayEmulator.CreateInMemory(new RapidSosGatewayEmulatorOptions { ClientId = null, Username = null });
        using var client = emulator.CreateClient();

        using var response = await client.PostAsync("oauth/token", new FormUrlEncodedContent([
            new("grant_type", "client_credentials"),
            new("client_id", "emulator-client"),
            new("client_secret", "emulator-secret"),
        ]));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    /// <summary>A port that was free a moment ago: the operating system's pick for a listener that is closed at once.</summary>
    private static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
