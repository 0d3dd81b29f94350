using System.ComponentModel.DataAnnotations;
using Newsletter.Hosting;

namespace Newsletter.Tests.Hosting;

public sealed class SiteOptionsTests
{
    [Theory]
    [InlineData("https://papers.example.org")]
    [InlineData("https://papers.example.org/")]
    [InlineData("http://localhost:5000")]
    [InlineData("http://127.0.0.1:8080/papers")]
    [InlineData("https://example.org/papers")]
    public void Validate_AnAbsoluteHttpAddress_Accepted(string url)
    {
        Assert.Empty(Validate(url));
    }

    [Theory]
    [InlineData("https://papers example.org")]
    [InlineData("https://papers.example.org:99999")]
    [InlineData("https://")]
    [InlineData("http://[::1")]
    [InlineData("ftp://papers.example.org")]
    [InlineData("https://papers.example.org/?a=b")]
    [InlineData("https://papers.example.org/#top")]
    [InlineData("https://user:secret@papers.example.org")]
    [InlineData("papers.example.org")]
    // Plain http to another machine: every digest failed at send time ("could not be rendered"), as RFC 8058 wants https.
    [InlineData("http://papers.example.org")]
    public void Validate_AnAddressNoLinkCouldStartWith_RefusedNamingTheKey(string url)
    {
        // Each passed start-up before: every feed answered 500 and every mailed link was broken.
        var refused = Assert.Single(Validate(url));

        Assert.Contains("Newsletter:PublicBaseUrl", refused.ErrorMessage, StringComparison.Ordinal);
    }

    private static List<ValidationResult> Validate(string url)
    {
        var options = new SiteOptions { PublicBaseUrl = url };
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
