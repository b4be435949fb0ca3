using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace RapidSos.Http.Auth.Testing.Tests;

[TestFixture(EmulatorHosting.Kestrel)]
[TestFixture(EmulatorHosting.InMemory)]
public sealed class RecordingTests : EmulatorTestBase
{
    public RecordingTests(EmulatorHosting hosting)
        : base(hosting)
    {
    }

    [Test]
    public async Task Requests_TokenRequest_RecordsEverythingAboutIt()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero));
        var (emulator, client) = await StartAsync(new RapidSosGatewayEmulatorOptions { TimeProvider = time });

        using var response = await client.PostAsync("oauth/token/?trace=1", ClientCredentialsForm(scope: "alerts emergency"));
        var recorded = emulator.Requests.Single();

        Assert.Multiple(() =>
        {
            Assert.That(recorded.Method, Is.EqualTo("POST"));
            Assert.That(recorded.Path, Is.EqualTo("/oauth/token/"));
            Assert.That(recorded.Query, Is.EqualTo("?trace=1"));
            Assert.That(recorded.Timestamp, Is.EqualTo(time.GetUtcNow()));
            Assert.That(recorded.IsTokenRequest, Is.True);
            Assert.That(recorded.IsApiRequest, Is.False);
            Assert.That(recorded.StatusCode, Is.EqualTo(200));
            Assert.That(recorded.Token, Is.EqualTo(emulator.IssuedTokens.Single()));
            Assert.That(recorded.ClientId, Is.EqualTo(ClientId));
            Assert.That(recorded.Headers["content-type"], Is.EqualTo("application/x-www-form-urlencoded"));
            Assert.That(recorded.Headers["CONTENT-LENGTH"], Is.EqualTo(recorded.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.That(recorded.Headers.ContainsKey("Host"), Is.True);
            Assert.That(recorded.BodyText, Is.EqualTo("grant_type=client_credentials&client_id=emulator-client&client_secret=emulator-secret&scope=alerts+emergency"));
            Assert.That(Encoding.UTF8.GetString(recorded.Body.Span), Is.EqualTo(recorded.BodyText));
            Assert.That(recorded.Form, Is.EquivalentTo(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = ClientId,
                ["client_secret"] = ClientSecret,
                ["scope"] = "alerts emergency",
            }));
            Assert.That(recorded.ToString(), Is.EqualTo("POST /oauth/token/ -> 200"));
            Assert.That(emulator.TokenRequests, Is.EqualTo(new[] { recorded }));
        });
    }

    [Test]
    public async Task Requests_ApiRequest_RecordsPresentedTokenAndNoForm()
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);

        using var response = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);
        var recorded = emulator.Requests.Last();

        Assert.Multiple(() =>
        {
            Assert.That(recorded.IsApiRequest, Is.True);
            Assert.That(recorded.Token, Is.EqualTo(token));
            Assert.That(recorded.Headers["authorization"], Is.EqualTo("Bearer " + token));
            Assert.That(recorded.Form, Is.Empty);
            Assert.That(recorded.Body.IsEmpty, Is.True);
            Assert.That(emulator.TokenRequests, Has.Count.EqualTo(1));
            Assert.That(emulator.Requests, Has.Count.EqualTo(2));
        });
    }

    [Test]
    public async Task Requests_TokenRequests_RecordOwnerOfIssuedToken()
    {
        var (emulator, client) = await StartAsync();

        await GetTokenAsync(client);
        await GetUserTokenAsync(client);
        using (await client.PostAsync("oauth/token", ClientCredentialsForm(clientSecret: "wrong")))
        {
        }

        var owners = emulator.TokenRequests.Select(r => (r.TokenClientId, r.TokenUsername));

        Assert.That(owners, Is.EqualTo(new (string?, string?)[] { (ClientId, null), (ClientId, Username), (null, null) }));
    }

    [Test]
    public async Task Requests_ApiRequests_RecordOwnerOfPresentedTokenWhateverItsState()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (emulator, client) = await StartAsync(new RapidSosGatewayEmulatorOptions { TimeProvider = time });
        emulator.AddClient("agency-b", "secret-b");
        emulator.AddUser("tc@agency-b.example", "pw-b");
        var clientToken = await GetTokenAsync(client);
        var userToken = await GetUserTokenAsync(client, "tc@agency-b.example", "pw-b", "agency-b", "secret-b");
        var revokedToken = await GetTokenAsync(client, "agency-b", "secret-b");
        var expiredToken = await GetTokenAsync(client);
        emulator.RevokeToken(revokedToken);
        emulator.ResetRecords();

        foreach (var authorization in new[] { "Bearer " + clientToken, "Bearer " + userToken, "Bearer " + revokedToken, "Bearer unknown", null })
        {
            using var response = await GetWithTokenAsync(client, "v1/ping", authorization);
        }

        time.Advance(TimeSpan.FromHours(2));
        using (await GetWithTokenAsync(client, "v1/ping", "Bearer " + expiredToken))
        {
        }

        var owners = emulator.Requests.Select(r => (r.StatusCode, r.TokenClientId, r.TokenUsername));

        Assert.That(owners, Is.EqualTo(new (int, string?, string?)[]
        {
            (200, ClientId, null),
            (200, "agency-b", "tc@agency-b.example"),
            (401, "agency-b", null),
            (401, null, null),
            (401, null, null),
            (401, ClientId, null),
        }));
    }

    [Test]
    public async Task TokenClientId_ThousandAgenciesConcurrently_EachApiRequestCarriedItsOwnAgencysToken()
    {
        const int Agencies = 1_000;
        var (emulator, client) = await StartAsync();
        for (var i = 0; i < Agencies; i++)
        {
            emulator.AddClient($"agency-{i}", $"secret-{i}");
            emulator.AddUser($"agency-{i}", $"tc-{i}", $"pw-{i}");
        }

        // Every third agency signs a user in, every other one sends its client in a Basic header, to cover each path.
        var statuses = await Task.WhenAll(Enumerable.Range(0, Agencies).Select(async i =>
        {
            var id = $"agency-{i}";
            string token;
            if (i % 3 == 0)
            {
                token = await GetUserTokenAsync(client, $"tc-{i}", $"pw-{i}", id, $"secret-{i}");
            }
            else if (i % 2 == 0)
            {
                using var basic = await PostBasicTokenRequestAsync(client, id, $"secret-{i}");
                token = await ReadTokenAsync(basic);
            }
            else
            {
                token = await GetTokenAsync(client, id, $"secret-{i}");
            }

            using var ping = await GetWithTokenAsync(client, $"v1/ping?agency={id}", "Bearer " + token);
            return ping.StatusCode;
        }));

        var apiRequests = emulator.Requests.Where(r => r.IsApiRequest).ToList();
        var tokenRequestsPerClient = emulator.TokenRequests.GroupBy(r => r.ClientId).ToDictionary(g => g.Key!, g => g.Count());

        Assert.Multiple(() =>
        {
            Assert.That(statuses, Has.All.EqualTo(HttpStatusCode.OK));
            Assert.That(apiRequests, Has.Count.EqualTo(Agencies));
            Assert.That(apiRequests.Where(r => r.Query != "?agency=" + r.TokenClientId), Is.Empty, "an API request carried another agency's token");
            Assert.That(apiRequests.Count(r => r.TokenUsername is not null), Is.EqualTo((Agencies + 2) / 3));
            Assert.That(apiRequests.Where(r => r.TokenUsername is not null && r.TokenUsername != "tc-" + r.TokenClientId!["agency-".Length..]), Is.Empty);
            Assert.That(tokenRequestsPerClient, Has.Count.EqualTo(Agencies));
            Assert.That(tokenRequestsPerClient.Values, Has.All.EqualTo(1));
        });
    }

    [Test]
    public async Task Counters_TwoHundredConcurrentRequests_AreExact()
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);
        emulator.ResetRecords();

        var tasks = Enumerable.Range(0, 200).Select(async i =>
        {
            switch (i % 4)
            {
                case 0:
                    using (var response = await client.PostAsync("oauth/token", ClientCredentialsForm()))
                    {
                        return response.StatusCode;
                    }

                case 1:
                    using (var response = await client.PostAsync("oauth/v2/token", ClientCredentialsForm(clientSecret: "wrong")))
                    {
                        return response.StatusCode;
                    }

                case 2:
                    using (var response = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token))
                    {
                        return response.StatusCode;
                    }

                default:
                    using (var response = await GetWithTokenAsync(client, "v1/ping", "Bearer not-a-token"))
                    {
                        return response.StatusCode;
                    }
            }
        });
        var statuses = await Task.WhenAll(tasks);

        Assert.Multiple(() =>
        {
            Assert.That(statuses.Count(s => s == HttpStatusCode.OK), Is.EqualTo(100));
            Assert.That(emulator.TokenRequestCount, Is.EqualTo(100));
            Assert.That(emulator.SuccessfulTokenRequestCount, Is.EqualTo(50));
            Assert.That(emulator.ApiRequestCount, Is.EqualTo(100));
            Assert.That(emulator.UnauthorizedCount, Is.EqualTo(50));
            Assert.That(emulator.Requests, Has.Count.EqualTo(200));
            Assert.That(emulator.TokenRequests, Has.Count.EqualTo(100));
            Assert.That(emulator.IssuedTokens, Has.Count.EqualTo(50).And.Unique);
            Assert.That(emulator.Requests.Count(r => r.StatusCode == 401), Is.EqualTo(100));
        });
    }

    [Test]
    public async Task Requests_MoreThanMaxRecordedRequests_KeepsMostRecentAndExactCounters()
    {
        var (emulator, client) = await StartAsync(new RapidSosGatewayEmulatorOptions { MaxRecordedRequests = 5 });

        for (var i = 0; i < 12; i++)
        {
            using var response = await client.PostAsync($"oauth/token?i={i}", ClientCredentialsForm());
        }

        Assert.Multiple(() =>
        {
            Assert.That(emulator.Requests.Select(r => r.Query), Is.EqualTo(new[] { "?i=7", "?i=8", "?i=9", "?i=10", "?i=11" }));
            Assert.That(emulator.IssuedTokens, Has.Count.EqualTo(5));
            Assert.That(emulator.TokenRequestCount, Is.EqualTo(12));
            Assert.That(emulator.SuccessfulTokenRequestCount, Is.EqualTo(12));
        });
    }

    [Test]
    public async Task Requests_MaxRecordedRequestsZero_RecordsNothingButCounts()
    {
        var (emulator, client) = await StartAsync(new RapidSosGatewayEmulatorOptions { MaxRecordedRequests = 0 });

        var token = await GetTokenAsync(client);
        using var response = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), "tokens are still honoured");
            Assert.That(emulator.Requests, Is.Empty);
            Assert.That(emulator.IssuedTokens, Is.Empty);
            Assert.That(emulator.TokenRequestCount, Is.EqualTo(1));
            Assert.That(emulator.ApiRequestCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task ResetRecords_AfterTraffic_ClearsRecordsAndCountersButKeepsTokensValid()
    {
        var (emulator, client) = await StartAsync();
        var token = await GetTokenAsync(client);
        using (await GetWithTokenAsync(client, "v1/ping", "Bearer bad"))
        {
        }

        emulator.ResetRecords();
        var afterReset = (emulator.Requests.Count, emulator.IssuedTokens.Count, emulator.TokenRequestCount,
            emulator.SuccessfulTokenRequestCount, emulator.ApiRequestCount, emulator.UnauthorizedCount);
        using var response = await GetWithTokenAsync(client, "v1/ping", "Bearer " + token);

        Assert.Multiple(() =>
        {
            Assert.That(afterReset, Is.EqualTo((0, 0, 0, 0, 0, 0)));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(emulator.ApiRequestCount, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Requests_Snapshot_DoesNotChangeWithLaterRequests()
    {
        var (emulator, client) = await StartAsync();
        await GetTokenAsync(client);

        var snapshot = emulator.Requests;
        await GetTokenAsync(client);

        Assert.Multiple(() =>
        {
            Assert.That(snapshot, Has.Count.EqualTo(1));
            Assert.That(emulator.Requests, Has.Count.EqualTo(2));
        });
    }
}
