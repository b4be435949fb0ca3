using BenchmarkDotNet.Running;
using RapidSos.Http.Auth.Benchmarks.Anatomy;
using RapidSos.Http.Auth.Benchmarks.Quick;

// --quick: every scenario with short iterations, one "name: value unit" line per figure; --credentials: only the
// run-time credential ones (hot path with a credential or a resolver, 1,000 agencies cold, memory per set);
// --fleet: the fleet's (issue 12: real processes sharing tokens through a redis-server started here, and the hot
// path with the Redis cache registered; --no-hot-path skips the latter).
// Otherwise: a normal BenchmarkDotNet run of the hot-path benchmarks, with its usual arguments (--filter ...).
if (args.Contains("--anatomy", StringComparer.Ordinal))
{
    return await AnatomyRun.RunAsync(args);
}

if (args.Contains("--fleet", StringComparer.Ordinal))
{
    return await FleetMode.RunAsync(args);
}

if (args.Contains("--refusal", StringComparer.Ordinal))
{
    await RapidSos.Http.Auth.Benchmarks.Scenarios.TokenEndpointRefusal.RunAsync();
    return 0;
}

if (args.Contains("--credentials", StringComparer.Ordinal))
{
    return await QuickRun.RunAsync(credentialsOnly: true);
}

if (args.Contains("--quick", StringComparer.Ordinal))
{
    return await QuickRun.RunAsync();
}

BenchmarkSwitcher.FromAssembly(typeof(QuickRun).Assembly).Run(args);
return 0;
