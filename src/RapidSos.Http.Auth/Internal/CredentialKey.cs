namespace RapidSos.Http.Auth.Internal;

/// <summary>What identifies a run-time credential set within one registration: the secret and password only as their keyed hash.</summary>
internal readonly record struct CredentialKey(RapidSosGrantType GrantType, string ClientId, string? Username, string? Scope, string CredentialHash)
{
    public static CredentialKey Of(RapidSosCredential credential) =>
        new(credential.GrantType, credential.ClientId, credential.Username, credential.Scope, credential.CredentialHash);
}
