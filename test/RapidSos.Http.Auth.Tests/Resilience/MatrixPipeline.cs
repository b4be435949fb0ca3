namespace RapidSos.Http.Auth.Tests.Resilience;

/// <summary>How the standard resilience handler of a matrix cell is configured.</summary>
public enum MatrixPipeline
{
    /// <summary>As it comes: <c>AddStandardResilienceHandler()</c>, retrying whatever HttpClientResiliencePredicates calls transient.</summary>
    Standard,

    /// <summary><c>AddStandardResilienceHandler(o =&gt; o.Retry.ShouldHandle = ...)</c> with <see cref="RapidSosResilience.IsTransient"/>.</summary>
    WithPredicate,
}
