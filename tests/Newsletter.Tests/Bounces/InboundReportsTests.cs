using MimeKit;
using Newsletter.Bounces;

namespace Newsletter.Tests.Bounces;

/// <summary>Delivery reports and auto-replies told apart from listings, on real reports and samples of other servers.</summary>
public sealed class InboundReportsTests
{
    // The token of the unsubscribe link in the samples' returned digest headers.
    private const string SampleToken = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    [Fact]
    public void Classify_PostfixReportOfAnUnknownUser_PermanentFailureWithItsReturnPath()
    {
        // Written by a real Postfix (deploy/scripts/start-postfix-bounce.sh) for a message to a user it does not have.
        var report = Assert.IsType<DeliveryReport>(InboundReports.Classify(Load("postfix-unknown-user.eml")));

        Assert.Equal(BounceKind.Permanent, report.Kind);
        Assert.Equal("5.1.1", report.Status);
        Assert.Equal("failed", report.Action);
        Assert.Equal(["nosuch@unknown-users.test.example"], report.Recipients);
        Assert.Contains("unknown user", report.Diagnostic, StringComparison.Ordinal);
        Assert.Contains("bounces+abc123@bounces.lab.test.example", report.ReturnPaths);
        Assert.Empty(report.UnsubscribeTokens);
    }

    [Fact]
    public void Classify_ExchangeOnlineNdr_PermanentWithTheDigestFromItsReturnedHeaders()
    {
        var report = Assert.IsType<DeliveryReport>(InboundReports.Classify(Load("exchange-online-ndr.eml")));

        Assert.Equal(BounceKind.Permanent, report.Kind);
        Assert.Equal("5.1.10", report.Status);
        Assert.Equal(["reader@example.org"], report.Recipients);
        Assert.StartsWith("smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found", report.Diagnostic, StringComparison.Ordinal);
        Assert.Equal([SampleToken], report.UnsubscribeTokens);
    }

    [Fact]
    public void Classify_GmailOverQuota_PermanentButNotAnUnknownMailbox()
    {
        var report = Assert.IsType<DeliveryReport>(InboundReports.Classify(Load("gmail-over-quota.eml")));

        Assert.Equal(BounceKind.Permanent, report.Kind);
        Assert.Equal("5.2.2", report.Status);
        Assert.Equal(["reader@example.org"], report.Recipients);
        Assert.Contains("digest@lab.test.example", report.ReturnPaths);
        Assert.Equal([SampleToken], report.UnsubscribeTokens);
    }

    [Fact]
    public void Classify_PostfixDelayWarning_TransientOnly()
    {
        var report = Assert.IsType<DeliveryReport>(InboundReports.Classify(Load("postfix-delayed.eml")));

        Assert.Equal(BounceKind.Transient, report.Kind);
        Assert.Equal("4.4.1", report.Status);
        Assert.Equal("delayed", report.Action);
        Assert.Contains("bounces+00aabbccddeeff00112233445566778899aabbccddeeff0011@bounces.lab.test.example", report.ReturnPaths);
    }

    [Fact]
    public void Classify_GaveUpAfterRetrying_FailedWithA4xxStatus_IsPermanent()
    {
        // Postfix, after days of a host that never answered: "Action: failed" with the last temporary status, 4.4.1.
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "reports", "postfix-delayed.eml"))
            .Replace("Action: delayed", "Action: failed", StringComparison.Ordinal);
        var report = Assert.IsType<DeliveryReport>(InboundReports.Classify(MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)), TestContext.Current.CancellationToken)));

        Assert.Equal(BounceKind.Permanent, report.Kind);
        Assert.Equal("4.4.1", report.Status);
        Assert.Equal("failed", report.Action);
    }

    [Fact]
    public void Classify_LongDiagnosticWithAnEmojiAtTheCut_CutsBeforeTheWholeCharacter()
    {
        // A server's diagnostic is its own text: "X-Postfix; unknown user: " and 474 letters make 499 characters, so the
        // 500-character cut falls inside the emoji after them.
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "reports", "postfix-unknown-user.eml"))
            .Replace("unknown user: \"nosuch\"", "unknown user: " + new string('x', 474) + "🚀 and more", StringComparison.Ordinal);
        var report = Assert.IsType<DeliveryReport>(InboundReports.Classify(MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)), TestContext.Current.CancellationToken)));

        Assert.Equal("X-Postfix; unknown user: " + new string('x', 474) + "…", report.Diagnostic);
        // What PostgreSQL is sent: half of a character is no UTF-8, and the report could not be stored.
        _ = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(report.Diagnostic!);
    }

    [Theory]
    [InlineData("exchange-automatic-reply.eml", "subject \"Automatic reply…\"")]
    [InlineData("gmail-vacation.eml", "Auto-Submitted: auto-replied")]
    [InlineData("x-autoreply-without-auto-submitted.eml", "X-Autoreply header")]
    [InlineData("out-of-office-subject-only.eml", "subject \"Out of Office…\"")]
    public void Classify_AutoReply_RecognisedByItsSign(string file, string sign)
    {
        var reply = Assert.IsType<AutoReply>(InboundReports.Classify(Load(file)));

        Assert.Equal(sign, reply.Sign);
    }

    [Fact]
    public void Classify_PrecedenceAutoReply_IsAnAutoReply()
    {
        var message = Plain("Thanks for your message", ("Precedence", "auto_reply"));

        Assert.Equal(new AutoReply("Precedence: auto_reply"), InboundReports.Classify(message));
    }

    [Fact]
    public void Classify_TheSampleListing_IsNeither()
    {
        var listing = MimeMessage.Load(Path.Combine(AppContext.BaseDirectory, "TestData", "trending-papers-2025-03-11.eml"), TestContext.Current.CancellationToken);

        Assert.Null(InboundReports.Classify(listing));
    }

    [Fact]
    public void Classify_BulkMailWithAutoGeneratedMark_IsNeither()
    {
        // Precedence: bulk and Auto-Submitted: auto-generated mark newsletters too; the sender policy judges those.
        var message = Plain("Trending papers - Mar 11", ("Precedence", "bulk"), ("Auto-Submitted", "auto-generated"));

        Assert.Null(InboundReports.Classify(message));
    }

    [Theory]
    [InlineData("<https://papers.lab.example.org/unsubscribe/abc_-123>", "abc_-123")]
    [InlineData("<mailto:unsubscribe@lab.example.org>, <https://lab.example.org/papers/unsubscribe/abc>", "abc")]
    [InlineData("<http://localhost:5000/unsubscribe/abc>", "abc")]
    [InlineData("<ftp://papers.lab.example.org/unsubscribe/abc>", null)]
    [InlineData("<https://papers.lab.example.org/manage/abc>", null)]
    [InlineData("https://papers.lab.example.org/unsubscribe/abc", null)]
    [InlineData(null, null)]
    public void UnsubscribeToken_FromAListUnsubscribeValue_OnlyAWebUnsubscribeLinksToken(string? value, string? token)
    {
        Assert.Equal(token, InboundReports.UnsubscribeToken(value));
    }

    private static MimeMessage Load(string file) => MimeMessage.Load(Path.Combine(AppContext.BaseDirectory, "TestData", "reports", file), TestContext.Current.CancellationToken);

    private static MimeMessage Plain(string subject, params (string Name, string Value)[] headers)
    {
        var message = new MimeMessage { Subject = subject, Body = new TextPart("plain") { Text = "Hello." } };
        message.From.Add(MailboxAddress.Parse("someone@example.org"));
        foreach (var (name, value) in headers)
        {
            message.Headers.Add(name, value);
        }
        return message;
    }
}
