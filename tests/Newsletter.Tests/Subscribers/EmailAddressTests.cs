using Newsletter.Subscribers;

namespace Newsletter.Tests.Subscribers;

public class EmailAddressTests
{
    [Theory]
    [InlineData("  ada@lab.example.org ", "ada@lab.example.org")]
    [InlineData("#team@lab.example.org", "#team@lab.example.org")]
    public void Normalize_PlainAddress_Trimmed(string input, string expected) => Assert.Equal(expected, EmailAddress.Normalize(input));

    [Theory]
    [InlineData("reader@xn--bcher-kva.example", "reader@bücher.example")] // the same mailbox as its DNS spells it
    [InlineData("reader@bu\u0308cher.example", "reader@bücher.example")] // ü typed as u and a combining diaeresis
    [InlineData("reader@BÜCHER.example", "reader@bücher.example")]
    [InlineData("Jürgen@bücher.example", "Jürgen@bücher.example")] // the local part is the receiving server's: kept as typed
    public void Normalize_InternationalDomain_OneSpellingPerDomain(string input, string expected) =>
        Assert.Equal(expected, EmailAddress.Normalize(input));

    [Theory]
    [InlineData("Ada@Lab.Example.ORG")] // an ASCII domain is kept as typed (the address's index ignores case)
    [InlineData("ada@xn--zz.example")] // not valid punycode: kept as typed, as it is no name to spell otherwise
    public void Normalize_AsciiDomain_KeptAsTyped(string input) => Assert.Equal(input, EmailAddress.Normalize(input));

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
