using System.Text;
using MimeKit;
using Newsletter.Inbox;

namespace Newsletter.Tests.Inbox;

public sealed class TrendingEmailParserVariantTests
{
    private static readonly string Header = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\n";

    public static TheoryData<ContentEncoding> Encodings => [ContentEncoding.Base64, ContentEncoding.EightBit, ContentEncoding.QuotedPrintable, ContentEncoding.Binary];

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Parse_TransferEncoding_YieldsTheSamplePapers(ContentEncoding encoding)
    {
        var message = Listings.RoundTrip(Listings.Message(Listings.Text, encoding));

        var listing = Listings.Parse(message);

        Listings.AssertSamplePapers(listing);
        Assert.Equal(new DateOnly(2025, 3, 11), listing.IssueDate);
    }

    [Theory]
    [InlineData("windows-1252", ContentEncoding.EightBit)]
    [InlineData("iso-8859-1", ContentEncoding.QuotedPrintable)]
    [InlineData("windows-1252", ContentEncoding.Base64)]
    public void Parse_LegacyCharsetBody_DecodesAccentedTitles(string charset, ContentEncoding encoding)
    {
        var text = Header + "Mar 11\n\nRésumé Generation for Café Reviews: A Naïve Approach\n\n" + Listings.ExpectedPapers[0].Abstract
            + "\n\n" + Listings.ExpectedPapers[1].Title + "\n\n" + Listings.ExpectedPapers[1].Abstract + "\n";
        var message = Listings.Message(text, encoding, Encoding.GetEncoding(charset));

        var listing = Listings.Parse(Listings.RoundTrip(message));

        Assert.Equal(["Résumé Generation for Café Reviews: A Naïve Approach", Listings.ExpectedPapers[1].Title], listing.Papers.Select(p => p.Title));
    }

    [Theory]
    [InlineData("us-ascii")]
    [InlineData("x-no-such-charset")]
    [InlineData("iso-8859-1")]
    public void Parse_Utf8BytesUnderWrongCharset_DecodesAsUtf8(string declared)
    {
        var headers = $"""
            From: papers@notifications.huggingface.co
            Subject: Trending papers
            Date: Tue, 11 Mar 2025 14:02:31 +0000
            MIME-Version: 1.0
            Content-Type: text/plain; charset="{declared}"
            Content-Transfer-Encoding: 8bit

            """;
        var message = Listings.LoadRaw(headers, Encoding.UTF8.GetBytes(Listings.Text));

        var listing = Listings.Parse(message);

        Listings.AssertSamplePapers(listing);
        Assert.Contains(listing.Papers, p => p.Title == "Light Schrödinger Bridge");
    }

    [Fact]
    public void Parse_Latin1BytesDeclaredAsUtf8_FallsBackToLatin1()
    {
        var text = "Mar 11\n\nCafé Résumé Networks\n\n" + Listings.ExpectedPapers[0].Abstract + "\n";
        var headers = """
            From: papers@notifications.huggingface.co
            Date: Tue, 11 Mar 2025 14:02:31 +0000
            Content-Type: text/plain; charset=utf-8
            Content-Transfer-Encoding: 8bit

            """;

        var listing = Listings.Parse(Listings.LoadRaw(headers, Encoding.Latin1.GetBytes(text)));

        Assert.Equal("Café Résumé Networks", Assert.Single(listing.Papers).Title);
    }

    [Fact]
    public void Parse_GmailForward_YieldsTheSamePapers()
    {
        var text = "FYI, today's list has a few on ensembles.\n\n---------- Forwarded message ---------\n"
            + "From: Hugging Face <papers@notifications.huggingface.co>\nDate: Tue, Mar 11, 2025 at 2:02 PM\n"
            + "Subject: Trending papers - Mar 11\nTo: <papers-inbox@lab.example.org>\n\n\n" + Listings.Text;
        var message = Listings.Message(text, date: new DateTimeOffset(2025, 3, 12, 9, 0, 0, TimeSpan.FromHours(1)));
        message.From.Clear();
        message.From.Add(new MailboxAddress("Ada Colleague", "ada@lab.example.org"));

        var listing = Listings.Parse(Listings.RoundTrip(message));

        Listings.AssertSamplePapers(listing);
        Assert.Equal(new DateOnly(2025, 3, 11), listing.IssueDate);
        Assert.Equal("ada@lab.example.org", listing.From);
    }

    [Fact]
    public void Parse_AppleMailForwardSentLater_TakesYearFromForwardedDate()
    {
        var text = "Worth a read.\n\nBegin forwarded message:\n\nFrom: Hugging Face <papers@notifications.huggingface.co>\n\n"
            + "Subject: Trending papers - Mar 11\n\nDate: 11 March 2025 at 14:02:31 GMT\n\nTo: papers-inbox@lab.example.org\n\n" + Listings.Text;
        var message = Listings.Message(text, date: new DateTimeOffset(2026, 4, 2, 10, 0, 0, TimeSpan.Zero));

        var listing = Listings.Parse(Listings.RoundTrip(message));

        Listings.AssertSamplePapers(listing);
        Assert.Equal(new DateOnly(2025, 3, 11), listing.IssueDate);
    }

    [Fact]
    public void Parse_QuotedForward_YieldsTheSamePapers()
    {
        var quoted = string.Join("\n", Listings.Text.Split('\n').Select(line => line.Length == 0 ? ">" : "> " + line));
        var text = "Have a look at the second one.\n\nOn Tue, Mar 11, 2025 at 2:02 PM Hugging Face <papers@notifications.huggingface.co> wrote:\n"
            + "> From: Hugging Face <papers@notifications.huggingface.co>\n> Subject: Trending papers - Mar 11\n> Date: Tue, 11 Mar 2025 14:02:31 +0000\n>\n" + quoted;

        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(text)));

        Listings.AssertSamplePapers(listing);
        Assert.Equal(new DateOnly(2025, 3, 11), listing.IssueDate);
    }

    [Fact]
    public void Parse_GmailHtmlForward_YieldsTheSamePapers()
    {
        var sample = Listings.LoadSample();
        var html = "<div dir=\"ltr\">Thought you would like these.<br><br><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">"
            + "---------- Forwarded message ---------<br>From: <strong class=\"gmail_sendername\">Hugging Face</strong> <span>&lt;papers@notifications.huggingface.co&gt;</span><br>"
            + "Date: Tue, Mar 11, 2025 at 2:02 PM<br>Subject: Trending papers - Mar 11<br>To: &lt;papers-inbox@lab.example.org&gt;<br></div><br><br>"
            + sample.HtmlBody! + "</div></div>";
        var message = Listings.NewMessage();
        message.Body = new TextPart("html") { Text = html };

        var listing = Listings.Parse(Listings.RoundTrip(message));

        Listings.AssertSamplePapers(listing);
    }

    [Theory]
    [InlineData("Dec 31", 2026, 1, 1, 2025, 12, 31)]
    [InlineData("December 31", 2026, 1, 1, 2025, 12, 31)]
    [InlineData("Mar 11", 2025, 3, 11, 2025, 3, 11)]
    [InlineData("March 11, 2025", 2026, 7, 1, 2025, 3, 11)]
    [InlineData("Jan 1", 2025, 12, 31, 2026, 1, 1)]
    [InlineData("Feb 29", 2024, 3, 1, 2024, 2, 29)]
    public void Parse_DateLine_TakesTheYearClosestBeforeTheSendDate(string dateLine, int sentYear, int sentMonth, int sentDay, int year, int month, int day)
    {
        var text = Header + dateLine + "\n\n" + Listings.PapersText;
        var sent = new DateTimeOffset(sentYear, sentMonth, sentDay, 8, 0, 0, TimeSpan.Zero);

        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(text, date: sent)));

        Assert.Equal(new DateOnly(year, month, day), listing.IssueDate);
        Assert.Equal(70, listing.Papers.Count);
    }

    [Fact]
    public void Parse_NoDateLine_IssueDateIsNullAndPapersStillRead()
    {
        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(Header + Listings.PapersText)));

        Assert.Null(listing.IssueDate);
        Listings.AssertSamplePapers(listing);
    }

    [Theory]
    [InlineData("Mar 0")]
    [InlineData("March 00, 2025")]
    [InlineData("0 Mar")]
    public void Parse_DateLineOfDayZero_IssueDateIsNullAndPapersStillRead(string dateLine)
    {
        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(Header + dateLine + "\n\n" + Listings.PapersText)));

        Assert.Null(listing.IssueDate);
        Listings.AssertSamplePapers(listing);
    }

    [Fact]
    public void Parse_NoDateHeaderAndNoYear_IssueDateIsNull()
    {
        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(Listings.Text, withDate: false)));

        Assert.Null(listing.IssueDate);
        Assert.Equal(70, listing.Papers.Count);
    }

    [Fact]
    public void Parse_BounceReport_YieldsNoPapers()
    {
        var original = Listings.LoadSample();
        var message = Listings.NewMessage();
        message.From.Clear();
        message.From.Add(new MailboxAddress("Mail Delivery System", "MAILER-DAEMON@mx.lab.example.org"));
        message.Subject = "Undelivered Mail Returned to Sender";
        var report = new MultipartReport("delivery-status")
        {
            new TextPart("plain") { Text = "This is the mail system at host mx.lab.example.org.\n\nI'm sorry to have to inform you that your message could not be delivered to one or more recipients. It's attached below.\n\n<papers-inbox@lab.example.org>: host mx said: 550 5.1.1 User unknown (in reply to RCPT TO command)\n" },
            new MimePart("message", "delivery-status") { Content = new MimeContent(new MemoryStream(Encoding.ASCII.GetBytes("Reporting-MTA: dns; mx.lab.example.org\r\n\r\nFinal-Recipient: rfc822; papers-inbox@lab.example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"))) },
            new MessagePart { Message = original },
        };
        message.Body = report;

        var listing = Listings.Parse(Listings.RoundTrip(message));

        Assert.Empty(listing.Papers);
        Assert.Null(listing.IssueDate);
    }

    [Fact]
    public void Parse_AutoReplyQuotingTheListing_YieldsNoPapers()
    {
        var message = Listings.Message("I am out of the office until March 14 with limited access to email.\n\n" + Listings.Text);
        message.Headers.Add("Auto-Submitted", "auto-replied");
        message.Subject = "Automatic reply: Trending papers - Mar 11";

        var listing = Listings.Parse(Listings.RoundTrip(message));

        Assert.Empty(listing.Papers);
    }

    [Theory]
    [InlineData("Automatic reply: Trending papers - Mar 11")]
    [InlineData("Out of Office: Trending papers - Mar 11")]
    [InlineData("Auto-Reply: Trending papers")]
    public void Parse_AutoReplySubjectQuotingTheListing_YieldsNoPapers(string subject)
    {
        var message = Listings.Message("I am away.\n\n" + Listings.Text);
        message.Subject = subject;

        var listing = Listings.Parse(Listings.RoundTrip(message));

        Assert.Empty(listing.Papers);
    }

    [Fact]
    public void Parse_OutOfOfficeWithoutHeaders_YieldsNoPapers()
    {
        var text = "Out of office\n\nThank you for your message. I am out of the office until Monday, March 17, with limited access to email. "
            + "For urgent matters please contact the lab office at office@lab.example.org.\n\nBest regards\nAda\n";

        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(text)));

        Assert.Empty(listing.Papers);
    }

    [Fact]
    public void Parse_ListingWithoutPapers_YieldsNoPapersAndKeepsDate()
    {
        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(Header + "Mar 11\n\nNo papers are trending today.\n")));

        Assert.Empty(listing.Papers);
        Assert.Equal(new DateOnly(2025, 3, 11), listing.IssueDate);
    }

    [Fact]
    public void Parse_MarkupInPlainTextTitle_KeepsItLiteral()
    {
        var text = "Mar 11\n\n<script>alert(1)</script> Paper\n\n" + Listings.ExpectedPapers[0].Abstract
            + "\n\n<b>Bold</b> &amp; Bright: <img src=x onerror=alert(2)>\n\n" + Listings.ExpectedPapers[1].Abstract + "\n";

        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(text)));

        Assert.Equal(["<script>alert(1)</script> Paper", "<b>Bold</b> & Bright: <img src=x onerror=alert(2)>"], listing.Papers.Select(p => p.Title));
    }

    [Fact]
    public void Parse_DecorationsAndFooters_AreNotPapers()
    {
        var builder = new StringBuilder(Header).Append("Mar 11\n\n");
        foreach (var (title, summary) in Listings.ExpectedPapers.Take(5))
        {
            builder.Append("▲ 42\n\n").Append(title).Append("\n\n").Append(summary).Append("\n\n17\n\n* * *\n\n---\n\n");
        }

        builder.Append("You are receiving this email because you subscribed to trending papers.\n\nManage notifications\n\nUnsubscribe\n");

        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(builder.ToString())));

        Assert.Equal(Listings.ExpectedPapers.Take(5).Select(p => p.Title), listing.Papers.Select(p => p.Title));
    }

    [Fact]
    public void Parse_TitleWithoutAbstract_IsNotAPaper()
    {
        var text = "Mar 11\n\nA Title Whose Abstract Went Missing\n\n" + Listings.ExpectedPapers[1].Title + "\n\n" + Listings.ExpectedPapers[1].Abstract + "\n";

        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(text)));

        Assert.Equal(Listings.ExpectedPapers[1].Title, Assert.Single(listing.Papers).Title);
    }

    [Fact]
    public void Parse_RepeatedTitleWithOtherSpelling_IsOnePaper()
    {
        var text = "Mar 11\n\nLight Schrödinger Bridge\n\n" + Listings.ExpectedPapers[0].Abstract
            + "\n\nLIGHT  SCHRÖDINGER-BRIDGE\n\n" + Listings.ExpectedPapers[1].Abstract + "\n";

        var listing = Listings.Parse(Listings.RoundTrip(Listings.Message(text)));

        Assert.Equal(Listings.Expected(Listings.ExpectedPapers[0].Abstract), Assert.Single(listing.Papers).Abstract);
    }

    [Fact]
    public void Parse_ArxivLinksInTextAndHtml_GiveVersionlessIds()
    {
        var text = "Mar 11\n\nFirst Paper\n\nWe study things (arXiv:2407.08296v3) and report results that matter a great deal to the field. "
            + "The method is simple, the experiments are broad, and the code is public; we hope it serves as a baseline for later work on the same problem.\n\n"
            + "Second Paper\n\n" + Listings.ExpectedPapers[0].Abstract + "\n\nhttps://arxiv.org/pdf/2401.00001v2\n";
        var html = "<h3><a href=\"https://arxiv.org/abs/2312.12345v1\">Third Paper</a></h3><p>" + Listings.ExpectedPapers[1].Abstract + "</p>";
        var message = Listings.NewMessage();
        message.Body = new Multipart("mixed")
        {
            new TextPart("plain") { Text = text },
            new TextPart("plain") { Text = "a note" },
        };

        var plain = Listings.Parse(Listings.RoundTrip(message));
        message.Body = new TextPart("html") { Text = html };
        var fromHtml = Listings.Parse(Listings.RoundTrip(message));

        // An id in the abstract's prose may be a paper it cites ("we extend arXiv:..."): taken as this paper's, it made the
        // new paper the cited one, which replaced it in the issue. Only the paper's own links and title name it.
        Assert.Equal([null, "2401.00001"], plain.Papers.Select(p => p.ArxivId));
        Assert.Equal("https://arxiv.org/pdf/2401.00001v2", plain.Papers[1].Links[^1]);
        Assert.Equal("2312.12345", Assert.Single(fromHtml.Papers).ArxivId);
    }

    [Fact]
    public void Parse_TenMegabyteAttachmentBesideListing_ReadsOnlyTheListing()
    {
        var message = Listings.NewMessage();
        var payload = new byte[10 * 1024 * 1024];
        new Random(7).NextBytes(payload);
        message.Body = new Multipart("mixed")
        {
            new TextPart("plain") { Text = Listings.Text },
            new MimePart("application", "octet-stream")
            {
                Content = new MimeContent(new MemoryStream(payload)),
                ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                ContentTransferEncoding = ContentEncoding.Base64,
                FileName = "weights.bin",
            },
            new TextPart("plain")
            {
                Text = "Mar 12\n\nA Paper Inside A Text Attachment\n\n" + Listings.ExpectedPapers[0].Abstract,
                ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
                FileName = "other.txt",
            },
        };

        var listing = Listings.Parse(Listings.RoundTrip(message));

        Listings.AssertSamplePapers(listing);
        Assert.Equal(new DateOnly(2025, 3, 11), listing.IssueDate);
    }

    [Fact]
    public void Parse_ListingForwardedAsAttachment_ReadsTheAttachedListing()
    {
        var message = Listings.NewMessage();
        message.Body = new Multipart("mixed")
        {
            new TextPart("plain") { Text = "See attached." },
            new MessagePart { Message = Listings.LoadSample() },
        };

        var listing = Listings.Parse(Listings.RoundTrip(message));

        Listings.AssertSamplePapers(listing);
    }
}
