using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Newsletter.Database;

namespace Newsletter.Tests.Database;

/// <summary>A connection string Npgsql cannot read is refused naming what to fix, never the password.</summary>
public sealed class ConnectionStringsTests
{
    [Fact]
    public void Require_MistypedKeyword_NamesIt()
    {
        var refused = Assert.Throws<OptionsValidationException>(() => Require("Host=db;Username=newsletter;Pasword=secret"));

        Assert.Contains("pasword", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secret", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Require_PasswordWithAnUnquotedSemicolon_ShowsNoPartOfIt()
    {
        // The password is "ab;xy=cd": Npgsql reads "xy" as a keyword it does not know.
        var refused = Assert.Throws<OptionsValidationException>(() => Require("Host=db;Username=newsletter;Password=ab;xy=cd"));

        Assert.DoesNotContain("xy", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("cd", refused.Message, StringComparison.Ordinal);
        Assert.Contains("quote", refused.Message, StringComparison.Ordinal);
    }

    private static string Require(string connectionString) =>
        ConnectionStrings.Require(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Newsletter"] = connectionString })
            .Build());
}
