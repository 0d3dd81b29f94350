using Newsletter.Digests;
using Newsletter.Subscribers;
using Xunit;

namespace Newsletter.Tests.Digests;

public sealed class TextRunTests
{
    [Fact]
    public void Split_OverlappingUnsortedAndOutOfRangeSpans_MergedAndClipped()
    {
        var runs = TextRun.Split("abcdefghij", [new(6, 10), new(1, 2), new(2, 2), new(-3, 4), new(20, 1)]);

        Assert.Equal(
            [new("abcd", true), new("ef", false), new("ghij", true)],
            runs);
    }

    [Fact]
    public void Split_NoSpans_OneUnhighlightedRun()
    {
        Assert.Equal([new TextRun("abc", false)], TextRun.Split("abc", []));
    }
}
