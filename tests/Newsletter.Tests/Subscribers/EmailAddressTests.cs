using Newsletter.Subscribers;

namespace Newsletter.Tests.Subscribers;

public class EmailAddressTests
{
    [Theory]
    [InlineData("  ada@lab.example.org ", "ada@lab.example.org")]
    [InlineData("#team@lab.example.org", "#team@lab.example.org")]
    public void Normalize_PlainAddress_Trimmed(string input, string expected) => Assert.Equal(expected, EmailAddress.Normalize(input));

    [Theory]
    [InlineData("jos\uFFFD@lab.example.org", "U+FFFD")] // what a decoder leaves of a Windows-1252 é
    [InlineData("ada\u200B@lab.example.org", "U+200B")] // zero-width space, pasted along
    [InlineData("\uFEFFada@lab.example.org", "U+FEFF")] // a byte-order mark
    [InlineData("ada@lab.exam\u00ADple.org", "U+00AD")] // a soft hyphen
    public void Normalize_InvisibleOrUnreadableCharacter_RefusedNamingIt(string input, string named)
    {
        var error = Assert.Throws<ArgumentException>(() => EmailAddress.Normalize(input));

        Assert.Contains($"invisible or unreadable character ({named})", error.Message, StringComparison.Ordinal);
    }
}
