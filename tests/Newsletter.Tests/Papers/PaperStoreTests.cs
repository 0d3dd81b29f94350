using Newsletter.Papers;

namespace Newsletter.Tests.Papers;

public sealed class PaperStoreTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void IssueSubject_ListingWithoutASubject_NamedByItsDate(string? subject)
    {
        // Stored as it came, the digest's title and heading and the web copy's heading were empty.
        var listing = new ParsedListing("id@example.org", "papers@example.org", subject, new DateOnly(2025, 3, 11), []);

        Assert.Equal("Trending papers of 11 March 2025", PaperStore.IssueSubject(listing));
        Assert.Equal("Trending papers", PaperStore.IssueSubject(listing with { IssueDate = null }));
    }

    [Fact]
    public void IssueSubject_ListingWithASubject_KeptAsItCame()
    {
        var listing = new ParsedListing("id@example.org", "papers@example.org", "Trending papers - Mar 11", new DateOnly(2025, 3, 11), []);

        Assert.Equal("Trending papers - Mar 11", PaperStore.IssueSubject(listing));
    }
}
