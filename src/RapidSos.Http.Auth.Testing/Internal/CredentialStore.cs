using System.Collections.Concurrent;

namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>The clients and RapidSOS Portal users the emulator accepts; thread-safe, changeable at run time.</summary>
/// <remarks>Two dictionaries read without locks: a request costs one look-up per credential, however many are registered.</remarks>
internal sealed class CredentialStore
{
    private readonly ConcurrentDictionary<string, string> _clientSecrets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Password, string? ClientId)> _users = new(StringComparer.Ordinal);

    /// <summary>Adds a client, or replaces the secret of a known one (a secret rotation).</summary>
    public void SetClient(string clientId, string clientSecret) => _clientSecrets[clientId] = clientSecret;

    public bool RemoveClient(string clientId) => _clientSecrets.TryRemove(clientId, out _);

    /// <summary>Adds a user, or replaces the password and client of a known one; a null client accepts the user through any client.</summary>
    public void SetUser(string username, string password, string? clientId) => _users[username] = (password, clientId);

    public bool RemoveUser(string username) => _users.TryRemove(username, out _);

    public bool IsValidClient(string clientId, string clientSecret) =>
        _clientSecrets.TryGetValue(clientId, out var expected) && string.Equals(expected, clientSecret, StringComparison.Ordinal);

    /// <summary>Whether the user exists, has this password, and may sign in through this client.</summary>
    public bool IsValidUser(string username, string password, string clientId) =>
        _users.TryGetValue(username, out var user)
        && string.Equals(user.Password, password, StringComparison.Ordinal)
        && (user.ClientId is null || string.Equals(user.ClientId, clientId, StringComparison.Ordinal));
}
