namespace RapidSos.Http.Auth.Tests.Resilience;

/// <summary>Where the standard resilience handler sits relative to the bearer handler on the API client.</summary>
public enum ResilienceOrder
{
    /// <summary><c>.AddRapidSosBearerToken().AddStandardResilienceHandler()</c>: the pipeline retries the API call inside the bearer handler.</summary>
    BearerFirst,

    /// <summary><c>.AddStandardResilienceHandler().AddRapidSosBearerToken()</c>: the pipeline wraps the bearer handler, token acquisition included.</summary>
    ResilienceFirst,

    /// <summary>
    /// <c>services.ConfigureHttpClientDefaults(h =&gt; h.AddStandardResilienceHandler())</c>, as .NET Aspire's service defaults do:
    /// every client gets the pipeline ahead of its own handlers, the library's token client included unless the library keeps it off.
    /// </summary>
    ClientDefaults,
}
