using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Digests;
using Newsletter.IntegrationTests.Admin;
using Newsletter.Subscribers;

namespace Newsletter.IntegrationTests.Mail;

/// <summary>
/// The subscribe form takes internationalised addresses. A non-ASCII domain goes as punycode to any relay; a non-ASCII
/// local part needs a relay offering SMTPUTF8 (RFC 6531), and without one its mail fails, recorded with the cause.
/// </summary>
public sealed class InternationalAddressTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Mail_ToANonAsciiDomain_ConfirmsAndGetsItsDigestWhetherOrNotTheServerOffersSmtpUtf8(bool smtpUtf8)
    {
        await using var smtp = await SmtpCapture.StartAsync(smtpUtf8, Ct);
        await using var app = await TestApp.StartAsync(smtp);
        using var client = app.CreateClient();

        await SubscribeAsync(app, client, "reader@bücher.example");
        var confirmation = (await smtp.WaitForMessagesAsync(1, cancellationToken: Ct))[0];
        var confirmLink = app.LinkIn(confirmation.Parse().TextBody ?? "", "confirm/");
        var confirmForm = new Dictionary<string, string> { ["__RequestVerificationToken"] = Antiforgery.TokenIn(await client.GetStringAsync(confirmLink, Ct)) };
        using var confirmed = await client.PostAsync(confirmLink, new FormUrlEncodedContent(confirmForm), Ct);
        var issue = await SendDigestsAsync(app);

        Assert.Equal(HttpStatusCode.Redirect, confirmed.StatusCode);
        Assert.Equal("sent", (await app.Ledger.StatusByEmailAsync(issue, 1))["reader@bücher.example"]);
        Assert.Equal(2, smtp.Received.Count);
        foreach (var mail in smtp.Received)
        {
            Assert.Contains("To: reader@xn--bcher-kva.example", Encoding.UTF8.GetString(mail.Raw), StringComparison.Ordinal);
            if (!smtpUtf8)
            {
                Assert.Equal("reader@xn--bcher-kva.example", Assert.Single(mail.Recipients));
            }
        }
    }

    [Fact]
    public async Task SubscribeForm_TheDomainInPunycode_IsTheSameReaderAsInUnicode()
    {
        // The same mailbox typed as its DNS spells it: it was refused as "not an email address".
        await using var smtp = await SmtpCapture.StartAsync(Ct);
        await using var app = await TestApp.StartAsync(smtp);
        await app.AddSubscriberAsync("reader@bücher.example", "diffusion");
        using var client = app.CreateClient();

        await SubscribeAsync(app, client, "reader@xn--bcher-kva.example");
        var mail = Assert.Single(await smtp.WaitForMessagesAsync(1, cancellationToken: Ct)).Parse();

        Assert.Equal(["reader@bücher.example"], await app.ReadAsync("select email from subscribers", r => r.GetString(0)));
        Assert.Equal("active", await app.ScalarAsync<string>("select status from subscribers"));
        Assert.Contains("already receives it", mail.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mail_ToANonAsciiLocalPartThroughAServerWithoutSmtpUtf8_FailsNamingTheCauseAndTheNextReaderGetsTheirs()
    {
        await using var smtp = await SmtpCapture.StartAsync(smtpUtf8: false, Ct);
        await using var app = await TestApp.StartAsync(smtp);
        using var client = app.CreateClient();

        await SubscribeAsync(app, client, "jürgen@example.org");
        var confirmation = await app.ReadAsync("select status, reply from confirmation_mails", r => (Status: r.GetString(0), Reply: r.IsDBNull(1) ? "" : r.GetString(1)));
        // Confirmed some other way (the admin's import): the digest goes over one connection with the next reader's.
        await app.ExecuteAsync("update subscribers set status = 'active'");
        await app.AddSubscriberAsync("after@example.org", "diffusion");
        var issue = await SendDigestsAsync(app);
        var digest = await app.ReadAsync("select d.status, d.error from deliveries d join subscribers s on s.id = d.subscriber_id where s.email = 'jürgen@example.org'",
            r => (Status: r.GetString(0), Error: r.IsDBNull(1) ? "" : r.GetString(1)));
        using var admin = await AdminTestKit.SignedInClientAsync(app);
        var issuePage = WebUtility.HtmlDecode(await admin.GetStringAsync($"admin/issues/{issue}", Ct));

        Assert.Equal("failed", Assert.Single(confirmation).Status);
        Assert.Contains("SMTPUTF8", confirmation[0].Reply, StringComparison.Ordinal);
        Assert.Equal("failed", Assert.Single(digest).Status);
        Assert.Contains("SMTPUTF8", digest[0].Error, StringComparison.Ordinal);
        Assert.Contains("does not offer SMTPUTF8", issuePage, StringComparison.Ordinal);
        Assert.Equal("sent", (await app.Ledger.StatusByEmailAsync(issue, 1))["after@example.org"]);
        Assert.Equal(["after@example.org"], smtp.Received.SelectMany(m => m.Recipients));
        // The relay cannot carry it; the address itself did not bounce.
        Assert.Equal("active", await app.ScalarAsync<string>("select status from subscribers where email = 'jürgen@example.org'"));
    }

    [Fact]
    public async Task ConfirmationMail_ToANonAsciiLocalPartThroughAServerWithoutSmtpUtf8_TheAdminSeesItFailedAndWhy()
    {
        await using var smtp = await SmtpCapture.StartAsync(smtpUtf8: false, Ct);
        await using var app = await TestApp.StartAsync(smtp);
        using var client = app.CreateClient();

        await SubscribeAsync(app, client, "jürgen@example.org");
        var id = await app.ScalarAsync<long>("select id from subscribers");
        using var admin = await AdminTestKit.SignedInClientAsync(app);
        var page = WebUtility.HtmlDecode(await admin.GetStringAsync($"admin/subscribers/{id}", Ct));

        Assert.Contains("<h2 id=\"confirmation-mails\">Confirmation mails</h2>", page, StringComparison.Ordinal);
        Assert.Contains("<td>failed</td>", page, StringComparison.Ordinal);
        Assert.Contains("not sent: the SMTP server does not offer SMTPUTF8, which the address jürgen@example.org needs", page, StringComparison.Ordinal);
        Assert.Empty(smtp.Received);
    }

    /// <summary>Through the subscribe form, then the confirmation mail's job as the worker runs it (this app has none).</summary>
    private static async Task SubscribeAsync(TestApp app, HttpClient client, string email)
    {
        var token = Antiforgery.TokenIn(await client.GetStringAsync("subscribe", Ct));
        using var response = await client.PostAsync("subscribe", new FormUrlEncodedContent(
            [new("__RequestVerificationToken", token), new("Email", email), new("Interests", "diffusion"), new("Format", "Html")]), Ct);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var mailId = await app.ScalarAsync<long>("select max(id) from confirmation_mails");
        await app.Services.GetRequiredService<ConfirmationMailJob>().RunAsync(mailId, Ct);
    }

    /// <summary>A listing of papers saying "diffusion", fanned out and sent in one batch over one connection; returns the issue.</summary>
    private static async Task<long> SendDigestsAsync(TestApp app)
    {
        var issue = await app.IngestSamplePapersSayingAsync("diffusion");
        await app.Services.GetRequiredService<FanOutJob>().RunAsync(issue, 1, Ct);
        var (from, to) = Assert.Single(await app.Services.GetRequiredService<DeliveryLedger>().OpenBatchesAsync(issue, 1, 500, Ct));
        await app.Services.GetRequiredService<SendBatchJob>().RunAsync(issue, 1, from, to, Ct);
        return issue;
    }
}
