using Newsletter.Digests;
using Xunit;
using Newsletter.Mail;

namespace Newsletter.Tests.Digests;

/// <summary>The plain-text part's wrapping (<c>@Wrap</c> in the text templates), written straight into the page.</summary>
public sealed class WrappedTextTests
{
    [Fact]
    public void WriteTo_Abstract_LinesAtMostTheWidthAndEveryWordKeptInOrder()
    {
        const string text = "  We present   a method for\ttraining diffusion models that scales to very long videos without losing detail. ";
        using var output = new StringWriter();

        new WrappedText(text, 30, "").WriteTo(output);

        var lines = output.ToString().Split('\n');
        Assert.True(lines.Length > 1);
        Assert.All(lines, line => Assert.InRange(line.Length, 1, 30));
        Assert.Equal(text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries), string.Join(' ', lines).Split(' '));
    }

    [Fact]
    public void WriteTo_LinkLongerThanTheWidth_OnItsOwnLineUnbroken()
    {
        const string link = "https://github.com/example-lab/a-repository-with-a-very-long-name";
        using var output = new StringWriter();

        new WrappedText($"Code is at {link} for all.", 20, "  ").WriteTo(output);

        Assert.Equal(["  Code is at", $"  {link}", "  for all."], output.ToString().Split('\n'));
    }

    [Fact]
    public void WriteTo_Lead_FirstLineStartsWithItTheOthersWithTheIndent()
    {
        using var output = new StringWriter();

        new WrappedText("Scaling laws for very long video generation", 24, "       ", "Title: ").WriteTo(output);

        Assert.Equal(["Title: Scaling laws for", "       very long video", "       generation"], output.ToString().Split('\n'));
    }

    [Fact]
    public void ToString_SameAsWhatIsWritten()
    {
        var wrapped = new WrappedText("one two three four five six seven eight nine ten", 12, "");
        using var output = new StringWriter();
        wrapped.WriteTo(output);

        Assert.Equal(output.ToString(), wrapped.ToString());
        Assert.Equal("one two\nthree four\nfive six\nseven eight\nnine ten", wrapped.ToString());
    }
}
