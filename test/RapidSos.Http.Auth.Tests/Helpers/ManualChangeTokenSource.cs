using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace RapidSos.Http.Auth.Tests.Helpers;

/// <summary>Tells IOptionsMonitor that the options changed, as a configuration reload does.</summary>
internal sealed class ManualChangeTokenSource : IOptionsChangeTokenSource<RapidSosAuthOptions>
{
    private CancellationTokenSource _cts = new();

    public string? Name => string.Empty;

    public IChangeToken GetChangeToken() => new CancellationChangeToken(_cts.Token);

    public void Change()
    {
        var previous = Interlocked.Exchange(ref _cts, new CancellationTokenSource());
        previous.Cancel();
    }
}
