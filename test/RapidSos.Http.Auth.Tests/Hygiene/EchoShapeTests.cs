using System.Text;
using System.Text.Json;

namespace RapidSos.Http.Auth.Tests.Hygiene;

/// <summary>The sweep's bodies are what they claim: valid JSON where meant, and carrying the secret they echo.</summary>
public class EchoShapeTests
{
    [Test]
    public void Body_EveryShapeSpellingAndSecret_IsValidJsonWhereMeantAndCarriesTheSecret()
    {
        var problems = new List<string>();
        foreach (var profile in SweepProfile.All)
        {
            var oracle = new LeakOracle(profile);
            var basic = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(profile.ClientId + ":" + profile.ClientSecret.Value));
            foreach (var (field, value, secret) in new[]
            {
                ("client_secret", profile.ClientSecret.Value, $"client secret of '{profile.Name}'"),
                ("password", profile.Password.Value, $"password of '{profile.Name}'"),
                ("Authorization", basic, $"client secret of '{profile.Name}' as Basic credentials"),
            })
            {
                foreach (var spelling in EchoSpelling.All)
                {
                    foreach (var shape in EchoShape.All)
                    {
                        var body = shape.Body(new EchoText(spelling, field, value, profile.Token.Value));
                        var label = $"{field} of '{profile}' spelled {spelling} in {shape}";
                        if (shape.IsValidJson)
                        {
                            try
                            {
                                using var _ = JsonDocument.Parse(body);
                            }
                            catch (JsonException ex)
                            {
                                problems.Add($"{label} is not valid JSON ({ex.Message}): {body}");
                            }
                        }

                        var found = oracle.FindInBody(body).Select(hit => hit.Secret).ToList();
                        if (!found.Contains(secret))
                        {
                            problems.Add($"{label} does not carry the secret: {body}");
                        }

                        if (shape.IsTokenResponse && shape.Name != "token-missing" && !found.Contains($"token of '{profile.Name}'"))
                        {
                            problems.Add($"{label} does not carry the token: {body}");
                        }
                    }
                }
            }
        }

        Assert.That(problems, Is.Empty);
    }
}
