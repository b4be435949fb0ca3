namespace RapidSos.Http.Auth.Tests.Hygiene;

/// <summary>One secret found in a captured text: which, in what spelling, and the text around it.</summary>
internal sealed record LeakHit(string Secret, string How, string Excerpt);
