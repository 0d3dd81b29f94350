using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using Newsletter.Inbox;
using Newsletter.Papers;

namespace Newsletter.Tests.Inbox;

/// <summary>The real sample listing and messages built from it for the parser tests.</summary>
internal static partial class Listings
{
    public const string SampleEml = "TestData/trending-papers-2025-03-11.eml";
    public const string SampleTxt = "TestData/trending-papers-2025-03-11.txt";

    public static readonly DateTimeOffset SampleDate = new(2025, 3, 11, 14, 2, 31, TimeSpan.Zero);

    public static string Path(string relative) => System.IO.Path.Combine(AppContext.BaseDirectory, relative);

    public static string Text { get; } = File.ReadAllText(Path(SampleTxt), Encoding.UTF8).Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>The .txt's paragraphs, split on blank lines, as written.</summary>
    public static IReadOnlyList<string> Paragraphs { get; } =
        BlankLines().Split(Text).Select(p => p.Trim()).Where(p => p.Length > 0).ToList();

    /// <summary>(title, abstract) pairs: the paragraphs after the date line, taken two by two.</summary>
    public static IReadOnlyList<(string Title, string Abstract)> ExpectedPapers { get; } = ReadExpected();

    /// <summary>The listing body from the date line on (no boilerplate header).</summary>
    public static string PapersText { get; } = string.Join("\n\n", ExpectedPapers.SelectMany(p => new[] { p.Title, p.Abstract }));

    public static MimeMessage LoadSample()
    {
        using var stream = File.OpenRead(Path(SampleEml));
        return TrendingEmailParser.Load(stream, TrendingEmailParser.DefaultMaxMessageBytes, TestContext.Current.CancellationToken);
    }

    /// <summary>Whitespace collapsed the way a reader sees it; TeX escapes made readable by the normalizer.</summary>
    public static string Expected(string paragraph) =>
        paragraph.Contains('\\', StringComparison.Ordinal) || paragraph.Contains('~', StringComparison.Ordinal)
            ? TextNormalizer.Normalize(paragraph)
            : Whitespace().Replace(paragraph, " ").Trim();

    public static MimeMessage Message(
        string plain,
        ContentEncoding encoding = ContentEncoding.QuotedPrintable,
        Encoding? charset = null,
        DateTimeOffset? date = null,
        bool withDate = true)
    {
        var message = NewMessage(date, withDate);
        var part = new TextPart("plain") { ContentTransferEncoding = encoding };
        part.SetText(charset ?? Encoding.UTF8, plain);
        message.Body = part;
        return message;
    }

    public static MimeMessage NewMessage(DateTimeOffset? date = null, bool withDate = true)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Hugging Face", "papers@notifications.huggingface.co"));
        message.To.Add(new MailboxAddress(null, "papers-inbox@lab.example.org"));
        message.Subject = "Trending papers";
        message.MessageId = "test.1@notifications.huggingface.co";
        if (withDate)
        {
            message.Date = date ?? SampleDate;
        }
        else
        {
            message.Headers.Remove(HeaderId.Date);
        }

        return message;
    }

    /// <summary>Writes the message to bytes and loads it back, so transfer encodings and charsets really happen.</summary>
    public static MimeMessage RoundTrip(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(stream);
        stream.Position = 0;
        return TrendingEmailParser.Load(stream, TrendingEmailParser.DefaultMaxMessageBytes, TestContext.Current.CancellationToken);
    }

    public static MimeMessage LoadRaw(string headers, byte[] body)
    {
        using var stream = new MemoryStream();
        var head = Encoding.ASCII.GetBytes(headers.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal) + "\r\n");
        stream.Write(head);
        stream.Write(body);
        stream.Position = 0;
        return TrendingEmailParser.Load(stream, TrendingEmailParser.DefaultMaxMessageBytes, TestContext.Current.CancellationToken);
    }

    public static ParsedListing Parse(MimeMessage message) => new TrendingEmailParser().Parse(message);

    /// <summary>
    /// A budget that only a parse gone quadratic or exponential reaches: twelve times the poller's default, so a busy test
    /// machine never trips it, while every hostile input of these tests would take many minutes (or forever) to parse
    /// super-linearly. It guards against hangs; it is not a speed test.
    /// </summary>
    public static TimeSpan HangGuard { get; } = new Newsletter.Inbox.InboxOptions().ParseTimeout * 12;

    /// <summary>Parses as the poller does, with a budget (<see cref="HangGuard"/>), or <see cref="ParseTimeoutException"/>.</summary>
    public static ParsedListing ParseWithinBudget(MimeMessage message) =>
        new TrendingEmailParser().Parse(message, HangGuard, TestContext.Current.CancellationToken);

    /// <summary>A message whose only body is <paramref name="html"/>.</summary>
    public static MimeMessage HtmlMessage(string html)
    {
        var message = NewMessage();
        message.Body = new TextPart("html") { Text = html, ContentTransferEncoding = ContentEncoding.Base64 };
        return RoundTrip(message);
    }

    public static void AssertSamplePapers(ParsedListing listing)
    {
        Assert.Equal(ExpectedPapers.Count, listing.Papers.Count);
        for (var i = 0; i < ExpectedPapers.Count; i++)
        {
            Assert.Equal(Expected(ExpectedPapers[i].Title), listing.Papers[i].Title);
            Assert.Equal(Expected(ExpectedPapers[i].Abstract), listing.Papers[i].Abstract);
        }
    }

    private static List<(string, string)> ReadExpected()
    {
        var paragraphs = Paragraphs;
        var dateLine = paragraphs.ToList().FindIndex(p => DateLine().IsMatch(p));
        var rest = paragraphs.Skip(dateLine + 1).ToList();
        var pairs = new List<(string, string)>();
        for (var i = 0; i + 1 < rest.Count; i += 2)
        {
            pairs.Add((rest[i], rest[i + 1]));
        }

        return pairs;
    }

    [GeneratedRegex(@"\n[ \t]*\n")]
    private static partial Regex BlankLines();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"^[A-Z][a-z]{2} \d{1,2}$")]
    private static partial Regex DateLine();
}
