using System.Text.Json;
using MimeKit;
using Newsletter.Inbox;
using Newsletter.Papers;

namespace Newsletter.Tests.Inbox;

public sealed class TrendingEmailParserSampleTests
{
    [Fact]
    public void Parse_SampleEml_YieldsTheTxtListingsPapersInOrder()
    {
        var listing = Listings.Parse(Listings.LoadSample());

        Assert.Equal(70, Listings.ExpectedPapers.Count);
        Listings.AssertSamplePapers(listing);
    }

    [Fact]
    public void Parse_SampleEml_ReadsIssueDateAndHeaders()
    {
        var listing = Listings.Parse(Listings.LoadSample());

        Assert.Equal(new DateOnly(2025, 3, 11), listing.IssueDate);
        Assert.Equal("trending-2025-03-11.7f3a9c@notifications.huggingface.co", listing.MessageId);
        Assert.Equal("papers@notifications.huggingface.co", listing.From);
        Assert.Equal("Trending papers - Mar 11", listing.Subject);
    }

    [Fact]
    public void Parse_SampleEml_ExtractsCodeLinksWithoutTrailingPunctuation()
    {
        var papers = Listings.Parse(Listings.LoadSample()).Papers;

        Assert.Equal(["https://github.com/innerlee/GCR"], papers[1].Links);
        Assert.Empty(papers[0].Links);
        Assert.Contains(papers, p => p.Links.SequenceEqual(["http://github.com/czg1225/SlimSAM"]));
        Assert.Contains(papers, p => p.Links.SequenceEqual(["https://github.com/Tabrisrei/ISLES22_Ensemble"]));
        Assert.Contains(papers, p => p.Links.SequenceEqual(["https://github.com/tenvence/afa/"]));
        Assert.All(papers.SelectMany(p => p.Links), link => Assert.DoesNotMatch(@"[.,;:)\]}]$", link));
    }

    [Fact]
    public void Parse_SampleEml_KeepsNonAsciiTitlesAndReadableTex()
    {
        var papers = Listings.Parse(Listings.LoadSample()).Papers;

        var bridge = Assert.Single(papers, p => p.Title == "Light Schrödinger Bridge");
        Assert.Contains("computational Schrödinger Bridges", bridge.Abstract, StringComparison.Ordinal);
        Assert.Contains(papers, p => p.Abstract.Contains("accuracy by 2.19% over", StringComparison.Ordinal));
        Assert.Contains(papers, p => p.Abstract.Contains("(i.e. points in the Grassmann manifold)", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_HtmlOnlyMessageFromSample_YieldsTheSamePapersAndDate()
    {
        var sample = Listings.LoadSample();
        var message = Listings.NewMessage();
        message.Body = new TextPart("html") { Text = sample.HtmlBody! };

        var listing = Listings.Parse(Listings.RoundTrip(message));

        Listings.AssertSamplePapers(listing);
        Assert.Equal(new DateOnly(2025, 3, 11), listing.IssueDate);
        Assert.Equal("https://github.com/SJTU-DeepVisionLab/FLoRA", listing.Papers[^2].Links.Single());
    }

    [Fact]
    public void Parse_EmptyTextPartBesideHtml_FallsBackToHtml()
    {
        var sample = Listings.LoadSample();
        var message = Listings.NewMessage();
        message.Body = new MultipartAlternative
        {
            new TextPart("plain") { Text = "This newsletter is best viewed in a browser that displays HTML." },
            new TextPart("html") { Text = sample.HtmlBody! },
        };

        var listing = Listings.Parse(Listings.RoundTrip(message));

        Listings.AssertSamplePapers(listing);
    }

    [Fact]
    public void ParseFile_SampleEml_GivesTheSameListingAsParse()
    {
        var fromFile = new TrendingEmailParser().ParseFile(Listings.Path(Listings.SampleEml));

        Listings.AssertSamplePapers(fromFile);
        Assert.Equal(new DateOnly(2025, 3, 11), fromFile.IssueDate);
    }

    [Fact]
    public void ParseFile_FileOverCap_ThrowsMessageTooLargeNamingSizeAndCap()
    {
        var path = Listings.Path(Listings.SampleEml);
        var size = new FileInfo(path).Length;

        var error = Assert.Throws<MessageTooLargeException>(() => new TrendingEmailParser().ParseFile(path, 1024));

        Assert.Equal(size, error.SizeBytes);
        Assert.Equal(1024, error.MaxBytes);
        Assert.Contains("1,024", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SeekableStreamOverCap_ThrowsMessageTooLarge()
    {
        var bytes = File.ReadAllBytes(Listings.Path(Listings.SampleEml));
        using var stream = new MemoryStream(bytes);

        var error = Assert.Throws<MessageTooLargeException>(() => TrendingEmailParser.Load(stream, bytes.Length - 1, TestContext.Current.CancellationToken));

        Assert.Equal(bytes.Length, error.SizeBytes);
        Assert.Equal(bytes.Length - 1, error.MaxBytes);
    }

    [Fact]
    public void Load_NonSeekableStreamOverCap_ThrowsMessageTooLarge()
    {
        var bytes = File.ReadAllBytes(Listings.Path(Listings.SampleEml));
        using var stream = new ForwardOnlyStream(new MemoryStream(bytes));

        var error = Assert.Throws<MessageTooLargeException>(() => TrendingEmailParser.Load(stream, 10_000, TestContext.Current.CancellationToken));

        Assert.Null(error.SizeBytes);
        Assert.Equal(10_000, error.MaxBytes);
    }

    [Fact]
    public void Load_NonSeekableStreamUnderCap_ParsesTheListing()
    {
        var bytes = File.ReadAllBytes(Listings.Path(Listings.SampleEml));
        using var stream = new ForwardOnlyStream(new MemoryStream(bytes));

        var listing = Listings.Parse(TrendingEmailParser.Load(stream, bytes.Length, TestContext.Current.CancellationToken));

        Listings.AssertSamplePapers(listing);
    }

    [Fact]
    public void ToJson_SampleListing_HasTheParseVerbShape()
    {
        var json = TrendingEmailParser.ToJson(Listings.Parse(Listings.LoadSample()));

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(["messageId", "from", "subject", "issueDate", "papers"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("trending-2025-03-11.7f3a9c@notifications.huggingface.co", root.GetProperty("messageId").GetString());
        Assert.Equal("papers@notifications.huggingface.co", root.GetProperty("from").GetString());
        Assert.Equal("2025-03-11", root.GetProperty("issueDate").GetString());
        var second = root.GetProperty("papers")[1];
        Assert.Equal(["title", "abstract", "arxivId", "links"], second.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("arxivId").ValueKind);
        Assert.Equal("https://github.com/innerlee/GCR", second.GetProperty("links")[0].GetString());
        Assert.Contains("Light Schrödinger Bridge", json, StringComparison.Ordinal);
    }

    [Fact]
    public void ToJson_NoDateAndHostileTitle_WritesNullAndEscapesMarkup()
    {
        var listing = new ParsedListing("id@host", "a@b.example", "s", null, [new ParsedPaper("<script>alert(1)</script> Paper", "x", "2407.08296", [])]);

        var json = TrendingEmailParser.ToJson(listing);

        using var document = JsonDocument.Parse(json);
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("issueDate").ValueKind);
        Assert.Equal("<script>alert(1)</script> Paper", document.RootElement.GetProperty("papers")[0].GetProperty("title").GetString());
        Assert.Equal("2407.08296", document.RootElement.GetProperty("papers")[0].GetProperty("arxivId").GetString());
        Assert.DoesNotContain("<script>", json, StringComparison.Ordinal);
    }

    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
