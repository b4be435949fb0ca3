using System.Diagnostics;
using System.Reflection;
using System.Runtime;
using Microsoft.Extensions.DependencyInjection;
using RapidSos.Http.Auth.Benchmarks.Quick;

namespace RapidSos.Http.Auth.Benchmarks.Scenarios;

/// <summary>
/// Scenario 6: what the library's heap holds per run-time credential set. One registration of a real container
/// (run-time credentials only, the default <see cref="RapidSosAuthOptions.MaxCredentialSets"/>) fetches the
/// tokens of 10,000 distinct <see cref="RapidSosCredential"/>s through <see cref="IRapidSosTokenCache"/> from a
/// stub back channel that answers at once with tokens of a known length. Per set: the heap after minus the heap
/// before, less the token strings, over the sets; for both grants and both client authentications. Then every set
/// is removed and the heap compared with before; then a registration limited to 1,000 sets meets 20,000 credentials.
/// </summary>
/// <remarks>
/// The credentials are built before the first measurement and kept alive to the last, so they, their strings and
/// the array holding them cancel out. What the library computes and caches in a credential on first use (its keyed
/// hash) counts as the library's. A warm-up set, removed before the first measurement, builds the back channel
/// and runs every code path once.
/// </remarks>
internal static class CredentialMemory
{
    private const int Sets = 10_000;
    private const int TokenLength = 40;
    private const double GoalBytesPerSet = 2048;
    private const int ChurnMax = 1_000;
    private const int ChurnCredentials = 20_000;

    /// <summary>The keyed hash a credential caches: 64 hexadecimal characters, as a string on a 64-bit heap.</summary>
    private const long HashStringBytes = 152;

    private static readonly Uri s_baseAddress = new("https://rapidsos-stub.local/");

    public static async Task RunAsync()
    {
        Report.Section($"6. memory: {Sets:N0} run-time credential sets held by one registration (IRapidSosTokenCache.GetTokenAsync, stub back channel, {TokenLength}-character tokens, real container)");
        Report.Note("heap = GC.GetTotalMemory(true) after forced compacting full collections; library_bytes_per_set = (heap after - heap before - the token strings) / sets");
        Report.Note($"the credentials (32-character client id and secret; password grant: a 25-character user and a 16-character password) are built before 'before' and kept alive: they cancel out; the keyed hash the library caches in each ({HashStringBytes} B) counts as the library's");
        foreach (var grant in new[] { RapidSosGrantType.ClientCredentials, RapidSosGrantType.Password })
        {
            foreach (var authentication in new[] { RapidSosClientAuthentication.FormFields, RapidSosClientAuthentication.BasicHeader })
            {
                await MeasureAsync(grant, authentication);
            }
        }

        await ChurnAsync();
    }

    private static async Task MeasureAsync(RapidSosGrantType grant, RapidSosClientAuthentication authentication)
    {
        var name = $"memory.{(grant == RapidSosGrantType.Password ? "password" : "client_credentials")}.{(authentication == RapidSosClientAuthentication.BasicHeader ? "basic_header" : "form_fields")}";
        var stub = new StubTokenEndpoint(TokenLength);
        await using var services = Container(stub, authentication, maxCredentialSets: Sets);
        var cache = services.GetRequiredService<IRapidSosTokenCache>();

        var warm = Credential(grant, "warm", 0);
        await cache.GetTokenAsync(warm);
        cache.Remove(warm);

        var empty = Heap();
        var credentials = new RapidSosCredential[Sets];
        for (var i = 0; i < Sets; i++)
        {
            credentials[i] = Credential(grant, "set", i);
        }

        var before = Heap();
        var requests = stub.Requests;
        var start = Stopwatch.GetTimestamp();
        foreach (var credential in credentials)
        {
            await cache.GetTokenAsync(credential);
        }

        var filled = Stopwatch.GetElapsedTime(start);
        var after = Heap();
        var held = HeldSets(cache);
        var tokenRequests = stub.Requests - requests;

        foreach (var credential in credentials)
        {
            cache.Remove(credential);
        }

        var removed = Heap();
        var heldAfterRemove = HeldSets(cache);
        GC.KeepAlive(credentials);

        var perSet = (after - before - (Sets * stub.TokenStringBytes)) / (double)Sets;
        var residual = (removed - before) / (double)Sets;
        Report.Check($"{name}.token_requests", tokenRequests, Sets, Sets, "requests");
        Report.Check($"{name}.sets_held", held, Sets, Sets, "sets");
        Report.Figure($"{name}.caller_bytes_per_credential", (before - empty) / (double)Sets, "B", "0", "what the benchmark holds per credential: the instance and its strings, not counted below");
        Report.Figure($"{name}.heap_growth", (after - before) / 1024.0 / 1024.0, "MiB", "0.00", $"{Sets:N0} sets with their tokens, filled in {filled.TotalMilliseconds:0} ms");
        Report.Goal($"{name}.library_bytes_per_set", Report.Format(perSet, "0"), "B", perSet < GoalBytesPerSet, $"< {GoalBytesPerSet:0} B beyond the {stub.TokenStringBytes} B token string");
        Report.Check($"{name}.sets_held_after_remove", heldAfterRemove, 0, 0, "sets");
        Report.Figure($"{name}.after_remove_minus_before", (removed - before) / 1024.0, "KiB", "0", $"{Report.Format(residual, "0")} B per set removed, of which {HashStringBytes} B is the hash cached in each credential the benchmark still holds");
        Report.Figure($"{name}.after_remove_beyond_cached_hashes", residual - HashStringBytes, "B", "0", "per set removed: what the library's tables keep of their grown capacity");
    }

    /// <summary>A registration limited to 1,000 sets meets 20,000 distinct credentials, one after the other, each dropped by the caller at once.</summary>
    private static async Task ChurnAsync()
    {
        var stub = new StubTokenEndpoint(TokenLength);
        await using var services = Container(stub, RapidSosClientAuthentication.FormFields, maxCredentialSets: ChurnMax);
        var cache = services.GetRequiredService<IRapidSosTokenCache>();
        var warm = Credential(RapidSosGrantType.ClientCredentials, "warm", 0);
        await cache.GetTokenAsync(warm);
        cache.Remove(warm);

        var before = Heap();
        var requests = stub.Requests;
        var maxHeld = 0;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < ChurnCredentials; i++)
        {
            await cache.GetTokenAsync(Credential(RapidSosGrantType.ClientCredentials, "churn", i));
            maxHeld = Math.Max(maxHeld, HeldSets(cache));
        }

        var churned = Stopwatch.GetElapsedTime(start);
        var after = Heap();
        var held = HeldSets(cache);

        Report.Section($"6b. churn: MaxCredentialSets = {ChurnMax:N0}, {ChurnCredentials:N0} distinct credentials used once each, in sequence (stub back channel)");
        Report.Check("memory.churn.token_requests", stub.Requests - requests, ChurnCredentials, ChurnCredentials, "requests");
        Report.Check("memory.churn.max_sets_held", maxHeld, 1, ChurnMax, "sets");
        Report.Check("memory.churn.sets_held", held, 1, ChurnMax, "sets");
        Report.Figure("memory.churn.heap_growth", (after - before) / 1024.0, "KiB", "0", $"churned in {churned.TotalMilliseconds:0} ms");
        Report.Figure("memory.churn.bytes_per_held_set", (after - before - (held * stub.TokenStringBytes)) / (double)held, "B", "0", "beyond the token string; includes the credential each set keeps (the caller dropped it)");
    }

    private static ServiceProvider Container(StubTokenEndpoint stub, RapidSosClientAuthentication authentication, int maxCredentialSets)
    {
        var services = new ServiceCollection();
        services.AddRapidSosAuthentication(o =>
        {
            o.BaseAddress = s_baseAddress;
            o.ClientAuthentication = authentication;
            o.MaxCredentialSets = maxCredentialSets;
        });
        services.AddHttpClient(RapidSosAuthDefaults.TokenClientName).ConfigurePrimaryHttpMessageHandler(() => stub);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private static RapidSosCredential Credential(RapidSosGrantType grant, string prefix, int i)
    {
        var clientId = $"{prefix}-{i:D6}-".PadRight(32, 'k');
        var secret = $"s{i:D6}".PadRight(32, 'x');
        return grant == RapidSosGrantType.Password
            ? RapidSosCredential.ForUser(clientId, secret, $"user{i:D6}@agency-{i:D4}.example"[..25], $"p{i:D6}".PadRight(16, 'w'))
            : new RapidSosCredential(clientId, secret);
    }

    /// <summary>The heap's live bytes once everything unreachable is collected and finalized.</summary>
    private static long Heap()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>
    /// How many sets the registration holds. The count is internal to the library (the cache behind
    /// <see cref="IRapidSosTokenCache"/> exposes it for tests) and this project sees no internals, so it is read by
    /// reflection; the figures above do not depend on it.
    /// </summary>
    private static int HeldSets(IRapidSosTokenCache cache) =>
        (int)(cache.GetType().GetProperty("Count", BindingFlags.Public | BindingFlags.Instance)
            ?? throw new InvalidOperationException($"{cache.GetType().Name} has no Count property any more: update the benchmark.")).GetValue(cache)!;
}
