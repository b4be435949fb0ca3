using System.Collections.Concurrent;

namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>The clients and RapidSOS Portal users the emulator accepts; thread-safe, changeable at run time.</summary>
internal sealed class CredentialStore
{
    private readonly ConcurrentDictionary<string, string> _clientSecrets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _userPasswords = new(StringComparer.Ordinal);

    /// <summary>Adds a client, or replaces the secret of a known one (a secret rotation).</summary>
    public void SetClient(string clientId, string clientSecret) => _clientSecrets[clientId] = clientSecret;

    /// <summary>Adds a user, or replaces the password of a known one.</summary>
    public void SetUser(string username, string password) => _userPasswords[username] = password;

    public bool IsValidClient(string clientId, string clientSecret) =>
        _clientSecrets.TryGetValue(clientId, out var expected) && string.Equals(expected, clientSecret, StringComparison.Ordinal);

    public bool IsValidUser(string username, string password) =>
        _userPasswords.TryGetValue(username, out var expected) && string.Equals(expected, password, StringComparison.Ordinal);
}
