namespace RapidSos.Http.Auth.Testing.Internal;

/// <summary>How an <see cref="EmulatorFault"/> takes effect.</summary>
internal enum FaultKind
{
    /// <summary>Answer with a canned response.</summary>
    Respond,

    /// <summary>Drop the connection.</summary>
    ConnectionReset,

    /// <summary>Wait, then answer normally.</summary>
    Stall,
}
