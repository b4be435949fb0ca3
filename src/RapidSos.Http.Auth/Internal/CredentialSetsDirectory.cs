namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Every registration's <see cref="CredentialSets"/> in one container, so a sign-out through any one of them
/// (<see cref="IRapidSosTokenCache.Remove"/>) drops the credential from all: the same user's token on another
/// registration, and the lifecycle that holds the password, go too.
/// </summary>
internal sealed class CredentialSetsDirectory
{
    private readonly object _gate = new();
    private CredentialSets[] _all = [];

    public void Add(CredentialSets sets)
    {
        lock (_gate)
        {
            _all = [.. _all, sets];
        }
    }

    public void Remove(CredentialSets sets)
    {
        lock (_gate)
        {
            _all = Array.FindAll(_all, s => !ReferenceEquals(s, sets));
        }
    }

    public void RemoveEverywhere(RapidSosCredential credential)
    {
        foreach (var sets in Volatile.Read(ref _all))
        {
            sets.RemoveHere(credential);
        }
    }
}
