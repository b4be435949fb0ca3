using System.Runtime.CompilerServices;

namespace RapidSos.Http.Auth.Internal;

/// <summary>
/// Where a request's own credential lives: in <see cref="HttpRequestMessage.Options"/>. Reading that property
/// creates the options bag of a request that has none (104 bytes on every request of an application that never
/// sets options), so the bag is read through its field, which a request without options leaves null; and not at
/// all until some request in the process has carried a credential.
/// </summary>
internal static class RequestCredential
{
    private static readonly HttpRequestOptionsKey<RapidSosCredential> s_key = new("RapidSos.Http.Auth.Credential");

    // HttpRequestMessage has kept its options in "_options" since .NET 5; should a runtime rename it, the property is
    // read instead (correct, one allocation per request without options).
    private static readonly bool s_fieldReadable = ProbeField();
    private static volatile bool s_used;

    public static void Set(HttpRequestMessage request, RapidSosCredential credential)
    {
        s_used = true;
        request.Options.Set(s_key, credential);
    }

    public static RapidSosCredential? Of(HttpRequestMessage request) =>
        s_used && (s_fieldReadable ? OptionsField(request) : request.Options) is { } options && options.TryGetValue(s_key, out var credential)
            ? credential
            : null;

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_options")]
    private static extern ref HttpRequestOptions? OptionsField(HttpRequestMessage request);

    private static bool ProbeField()
    {
        try
        {
            using var probe = new HttpRequestMessage();
            probe.Options.Set(s_key, null!);
            return OptionsField(probe) is not null;
        }
        catch (Exception ex) when (ex is MissingFieldException or MissingMemberException)
        {
            return false;
        }
    }
}
