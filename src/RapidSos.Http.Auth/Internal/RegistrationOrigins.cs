namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// The <see cref="AllowedOrigins"/> of one registration as its options are now: computed once per options change,
/// read by every request of every handler of the registration (one volatile read). A reloaded
/// <see cref="RapidSosAuthOptions.BaseAddress"/> or <see cref="RapidSosAuthOptions.AdditionalOrigins"/> applies to
/// the next request, exactly when the client's base address and the token endpoint change.
/// </summary>
internal sealed class RegistrationOrigins : IDisposable
{
    private readonly IDisposable? _subscription;
    private volatile AllowedOrigins _current;

    /// <summary>Origins that never change: a handler built by hand from one options instance.</summary>
    public RegistrationOrigins(AllowedOrigins fixedOrigins) => _current = fixedOrigins;

    /// <summary>Follows the options of registration <paramref name="name"/>.</summary>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The registration's options are invalid.</exception>
    public RegistrationOrigins(string name, RapidSosOptionsChanges changes)
    {
        _current = AllowedOrigins.From(changes.Monitor.Get(name));
        _subscription = changes.Subscribe(name, OnOptionsChanged);
    }

    public AllowedOrigins Current => _current;

    public void Dispose() => _subscription?.Dispose();

    private void OnOptionsChanged(RapidSosAuthOptions options)
    {
        try
        {
            _current = AllowedOrigins.From(options);
        }
        catch (ArgumentException)
        {
            // Options the validator refuses: the token provider refuses them too, naming every problem, so no token
            // is had for them; the origins stay what they were rather than failing the configuration reload.
        }
    }
}
