namespace RapidSos.Http.Auth.Emulator.Tests;

public sealed class CommandLineTests
{
    public static IEnumerable<TestCaseData> GoodArguments()
    {
        TestCaseData Case(string name, string[] args, Func<EmulatorSettings, object?> read, object? expected) =>
            new TestCaseData(args, new Func<object, object?>(settings => read((EmulatorSettings)settings)), expected).SetArgDisplayNames(name);

        yield return Case("no arguments: port 5080", [], s => s.Port, 5080);
        yield return Case("no arguments: control port 5081", [], s => s.EffectiveControlPort, 5081);
        yield return Case("no arguments: default client", [], s => string.Join(",", s.EffectiveClients), "emulator-client");
        yield return Case("no arguments: default user", [], s => string.Join(",", s.EffectiveUsers.Select(u => u.Username)), "emulator-user");
        yield return Case("--port", ["--port", "6000"], s => s.Port, 6000);
        yield return Case("--port=", ["--port=6000"], s => s.Port, 6000);
        yield return Case("--port 6000: control 6001", ["--port", "6000"], s => s.EffectiveControlPort, 6001);
        yield return Case("--port 0: free control port", ["--port", "0"], s => s.EffectiveControlPort, 0);
        yield return Case("--port 65535: free control port", ["--port", "65535"], s => s.EffectiveControlPort, 0);
        yield return Case("--control-port", ["--port", "6000", "--control-port", "7000"], s => s.EffectiveControlPort, 7000);
        yield return Case("--port 0 --control-port 0", ["--port", "0", "--control-port", "0"], s => s.EffectiveControlPort, 0);
        yield return Case("--client id", ["--client", "a:s"], s => s.Clients.Single().ClientId, "a");
        yield return Case("--client secret after the first colon", ["--client", "a:s:t=u"], s => s.Clients.Single().ClientSecret, "s:t=u");
        yield return Case("--client replaces the default user", ["--client", "a:s"], s => s.EffectiveUsers.Count, 0);
        yield return Case("--client repeatable", ["--client", "a:s", "--client", "b:t"], s => string.Join(",", s.EffectiveClients), "a,b");
        yield return Case("--user of a client", ["--client", "a:s", "--user", "a:bob:pw"], s => s.Users.Single().ToString(), "bob (client a)");
        yield return Case("--user of any client", ["--client", "a:s", "--user", ":bob:pw"], s => s.Users.Single().ClientId, null);
        yield return Case("--user password after the second colon", ["--client", "a:s", "--user", "a:bob:p:w"], s => s.Users.Single().Password, "p:w");
        yield return Case("--user alone replaces the default client", ["--user", ":bob:pw"], s => s.EffectiveClients.Count, 0);
        yield return Case("--token-lifetime 90s", ["--token-lifetime", "90s"], s => s.TokenLifetime, TimeSpan.FromSeconds(90));
        yield return Case("--token-lifetime 1h", ["--token-lifetime", "1h"], s => s.TokenLifetime, TimeSpan.FromHours(1));
        yield return Case("--token-lifetime 90", ["--token-lifetime", "90"], s => s.TokenLifetime, TimeSpan.FromSeconds(90));
        yield return Case("--token-lifetime 0", ["--token-lifetime", "0"], s => s.TokenLifetime, TimeSpan.Zero);
        yield return Case("--token-latency 50ms", ["--token-latency", "50ms"], s => s.TokenLatency, TimeSpan.FromMilliseconds(50));
        yield return Case("--token-latency 2m", ["--token-latency=2m"], s => s.TokenLatency, TimeSpan.FromMinutes(2));
        yield return Case("--token-type", ["--token-type", "Bearer"], s => s.TokenTypeValue, "Bearer");
        yield return Case("--misspell-access-token", ["--misspell-access-token"], s => s.MisspellAccessToken, true);
        yield return Case("--numbers-as-numbers", ["--numbers-as-numbers"], s => s.NumbersAsStrings, false);
        yield return Case("--issued-at-seconds", ["--issued-at-seconds"], s => s.IssuedAtInMilliseconds, false);
        yield return Case("--reject-all-tokens", ["--reject-all-tokens"], s => s.RejectAllTokens, true);
        yield return Case("quirks off by default", [], s => (s.MisspellAccessToken, s.NumbersAsStrings, s.IssuedAtInMilliseconds, s.RejectAllTokens), (false, true, true, false));
        yield return Case("emulator options", ["--port", "0", "--token-lifetime", "5m", "--numbers-as-numbers"],
            s => s.ToEmulatorOptions() is var o ? (o.Port, o.TokenLifetime, o.NumbersAsStrings, o.ClientId, o.Username, o.MaxRecordedRequests) : default,
            (0, TimeSpan.FromMinutes(5), false, (string?)null, (string?)null, 0));
    }

    [TestCaseSource(nameof(GoodArguments))]
    public void Parse_GoodArguments_Apply(string[] args, Func<object, object?> read, object? expected)
    {
        var settings = CommandLine.Parse(args);

        Assert.That(read(settings), Is.EqualTo(expected));
    }

    [TestCase(new[] { "--por", "5080" }, "Unknown option '--por'")]
    [TestCase(new[] { "5080" }, "Unexpected argument '5080'")]
    [TestCase(new[] { "--port" }, "--port needs a value")]
    [TestCase(new[] { "--port", "--misspell-access-token" }, "--port needs a value")]
    [TestCase(new[] { "--port", "http" }, "--port must be a port number from 0 to 65535, not 'http'")]
    [TestCase(new[] { "--port", "-1" }, "--port must be a port number from 0 to 65535, not '-1'")]
    [TestCase(new[] { "--port", "65536" }, "--port must be a port number from 0 to 65535, not '65536'")]
    [TestCase(new[] { "--port", "+80" }, "--port must be a port number")]
    [TestCase(new[] { "--port", "1", "--port", "2" }, "--port is given more than once")]
    [TestCase(new[] { "--control-port", "x" }, "--control-port must be a port number")]
    [TestCase(new[] { "--port", "6000", "--control-port", "6000" }, "--control-port must differ from --port (6000)")]
    [TestCase(new[] { "--token-lifetime", "1d" }, "--token-lifetime must be a duration such as 250ms, 90s, 2m, 1h or plain seconds, not '1d'")]
    [TestCase(new[] { "--token-lifetime", "-5s" }, "--token-lifetime must be a duration")]
    [TestCase(new[] { "--token-latency", "soon" }, "--token-latency must be a duration")]
    [TestCase(new[] { "--token-latency", "25h" }, "--token-latency must be at most 24h, not '25h'")]
    [TestCase(new[] { "--token-type", "" }, "--token-type must be a non-empty value")]
    [TestCase(new[] { "--misspell-access-token=yes" }, "--misspell-access-token takes no value")]
    [TestCase(new[] { "--user", ":bob:pw", "--user", ":bob:other" }, "--user 'bob' is given more than once")]
    [TestCase(new[] { "--client", "a:s", "--user", "b:bob:pw" }, "--user 'bob' names client 'b', which no --client gives")]
    [TestCase(new[] { "--client", "a:s", "--client", "a:t" }, "--client 'a' is given more than once")]
    [TestCase(new[] { "--client", "a\u001b[2J:s" }, "--client: the client id must not contain control characters")]
    public void Parse_BadArguments_ThrowUsageExceptionNamingTheArgument(string[] args, string expected)
    {
        Assert.That(() => CommandLine.Parse(args), Throws.InstanceOf<UsageException>().With.Message.Contains(expected));
    }

    [TestCase(new[] { "--client", "TopSecretValue" }, "--client #1 must be id:secret")]
    [TestCase(new[] { "--client", "a:s", "--client", "TopSecretValue" }, "--client #2 must be id:secret")]
    [TestCase(new[] { "--client", ":TopSecretValue" }, "--client #1 must be id:secret with neither part empty")]
    [TestCase(new[] { "--client", "TopSecretValue:" }, "--client #1 must be id:secret with neither part empty")]
    [TestCase(new[] { "--client=TopSecretValue" }, "--client #1 must be id:secret")]
    [TestCase(new[] { "--user", "a:TopSecretValue" }, "--user #1 must be clientId:username:password")]
    [TestCase(new[] { "--user", "a:bob:" }, "--user #1 must be clientId:username:password")]
    [TestCase(new[] { "--user", "a::TopSecretValue" }, "--user #1 must be clientId:username:password")]
    public void Parse_MalformedCredentials_NameTheArgumentButNeverShowTheValue(string[] args, string expected)
    {
        var thrown = Assert.Throws<UsageException>(() => CommandLine.Parse(args))!;

        Assert.Multiple(() =>
        {
            Assert.That(thrown.Message, Does.Contain(expected));
            Assert.That(thrown.Message, Does.Contain("not shown"));
            Assert.That(thrown.Message, Does.Not.Contain("TopSecretValue"));
        });
    }

    [Test]
    public void CredentialsToString_NeverShowTheSecretOrPassword()
    {
        var settings = CommandLine.Parse(["--client", "a:TopSecretValue", "--user", "a:bob:TopSecretPassword"]);

        Assert.Multiple(() =>
        {
            Assert.That(settings.Clients.Single().ToString(), Is.EqualTo("a"));
            Assert.That(settings.Users.Single().ToString(), Is.EqualTo("bob (client a)"));
        });
    }
}
