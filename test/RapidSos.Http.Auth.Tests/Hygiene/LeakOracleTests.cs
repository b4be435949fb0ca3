using System.Text;

namespace RapidSos.Http.Auth.Tests.Hygiene;

/// <summary>The sweep's oracle finds every secret in every spelling the gateway can echo, and nothing else.</summary>
public class LeakOracleTests
{
    [Test]
    public void Find_EverySecretInEverySpelling_FindsThatSecret()
    {
        var missed = new List<string>();
        foreach (var profile in SweepProfile.All)
        {
            var oracle = new LeakOracle(profile);
            foreach (var spelling in EchoSpelling.All)
            {
                foreach (var secret in profile.Secrets)
                {
                    // As sent, as JSON string content, and escaped once more (JSON text inside a JSON string).
                    foreach (var text in new[] { spelling.Wire(secret.Value), spelling.InJson(secret.Value), EchoSpelling.JsonDefault(spelling.InJson(secret.Value)) })
                    {
                        if (!oracle.Find(text).Any(hit => hit.Secret == $"{secret.Role} of '{profile.Name}'"))
                        {
                            missed.Add($"{secret} of '{profile}' spelled {spelling}: {text}");
                        }
                    }
                }

                var sent = Convert.ToBase64String(Encoding.UTF8.GetBytes(profile.ClientId + ":" + profile.ClientSecret.Value));
                var rfc6749 = Convert.ToBase64String(Encoding.UTF8.GetBytes(
                    Uri.EscapeDataString(profile.ClientId).Replace("%20", "+", StringComparison.Ordinal) + ":" +
                    Uri.EscapeDataString(profile.ClientSecret.Value).Replace("%20", "+", StringComparison.Ordinal)));
                foreach (var text in new[] { spelling.Wire("Basic " + sent), spelling.InJson("Basic " + sent), EchoSpelling.JsonDefault(spelling.InJson(sent)), spelling.Wire(rfc6749), spelling.InJson(rfc6749) })
                {
                    if (!oracle.Find(text).Any(hit => hit.Secret.EndsWith("as Basic credentials", StringComparison.Ordinal)))
                    {
                        missed.Add($"the Basic credentials of '{profile}' spelled {spelling}: {text}");
                    }
                }
            }
        }

        Assert.That(missed, Is.Empty);
    }

    [Test]
    public void Find_TextWithoutSecretsOrWithAnotherProfilesSecrets_FindsNothing()
    {
        foreach (var profile in SweepProfile.All)
        {
            var oracle = new LeakOracle(profile);
            var others = SweepProfile.All.Where(p => p != profile).SelectMany(p => p.Secrets.Select(s => s.Value));
            var harmless = string.Join("\n", new[]
            {
                profile.ClientId, Uri.EscapeDataString(profile.ClientId), profile.Username, EchoText.Marker,
                "The RapidSOS token request to http://127.0.0.1:5000/oauth/token failed with HTTP 401 (Unauthorized): ***.",
            }.Concat(others));

            Assert.That(oracle.Find(harmless), Is.Empty, profile.Name);
        }
    }
}
