using MimeKit;
using Newsletter.Papers;
using Newsletter.Tests.Inbox;

namespace Newsletter.Tests.Papers;

public sealed class TrackingLinksTests
{
    [Theory]
    // A click tracker with the real URL percent-encoded in its query.
    [InlineData("https://click.example.com/?u=https%3A%2F%2Farxiv.org%2Fabs%2F2503.01234&x=1", "https://arxiv.org/abs/2503.01234")]
    // Outlook Safe Links, as Microsoft 365 rewrites every link of incoming mail.
    [InlineData("https://eur02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fgithub.com%2Finnerlee%2FGCR&data=05%7C02%7Cpapers%40lab.example.org%7C4f1c%7C0%7C638772%7CUnknown%7CTWFpbGZsb3d8eyJWIjoiMC4wLjAwMDAifQ%3D%3D%7C0%7C%7C%7C&sdata=kq8Vx%2FQ%3D&reserved=0", "https://github.com/innerlee/GCR")]
    // Google's redirect, unescaped.
    [InlineData("https://www.google.com/url?q=https://huggingface.co/papers/2503.01234&sa=D&source=editors&ust=1741700000000000&usg=AOvVaw0abc", "https://huggingface.co/papers/2503.01234")]
    // Amazon SES click tracking keeps the link in its path.
    [InlineData("https://a1b2c3d4.r.us-east-1.awstrack.me/L0/https:%2F%2Farxiv.org%2Fpdf%2F2503.01234v2/1/010001957a2c9b1e-8f3c2d1e-4a5b-4c6d-8e7f-0123456789ab-000000/XyZaBc=394", "https://arxiv.org/pdf/2503.01234v2")]
    // Proofpoint URL Defense, versions 2 and 3, as universities' mail gateways rewrite links.
    [InlineData("https://urldefense.proofpoint.com/v2/url?u=https-3A__arxiv.org_abs_2503.01234-3Fcontext-3Dcs.LG&d=DwMFaQ&c=abc&r=def&m=ghi&s=jkl&e=", "https://arxiv.org/abs/2503.01234?context=cs.LG")]
    [InlineData("https://urldefense.com/v3/__https://github.com/a/b__;!!Abc123!def456$", "https://github.com/a/b")]
    // A Safe Link around a click tracker around the link.
    [InlineData("https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fclick.example.com%2F%3Fu%3Dhttps%253A%252F%252Farxiv.org%252Fabs%252F2503.01234%26x%3D1&data=x", "https://arxiv.org/abs/2503.01234")]
    public void Unwrap_ClickTrackingRedirect_GivesTheRealUrl(string wrapped, string expected)
    {
        Assert.Equal(expected, TrackingLinks.Unwrap(wrapped));
    }

    [Theory]
    [InlineData("https://huggingface.co/papers?q=Unsupervised+Manifold+Linearizing+and+Clustering")]
    [InlineData("https://github.com/x/y?tab=readme-ov-file#usage")]
    [InlineData("https://arxiv.org/abs/2503.01234")]
    // Trackers that keep only an id: nothing to recover without following them.
    [InlineData("https://lab.us21.list-manage.com/track/click?u=8a6f1c2e3b4d5e6f7a8b9c0d1&id=4d5e6f7a8b&e=0123456789")]
    [InlineData("https://u1234567.ct.sendgrid.net/ls/click?upn=u001.abcDEF-2BghiJKL-3D-3D_xyz")]
    [InlineData("https://urldefense.com/v3/__https://a.example/x*y__;Lw!!Abc$")]
    public void Unwrap_LinkThatWrapsNoUrl_StaysAsItIs(string link)
    {
        Assert.Equal(link, TrackingLinks.Unwrap(link));
    }

    [Fact]
    public void Extract_TrackedAndPlainCopiesOfALink_KeepsOneRealLink()
    {
        var links = LinkExtractor.Extract(
            "Code: https://click.example.com/?u=https%3A%2F%2Fgithub.com%2Fa%2Fb&x=1 (also https://github.com/a/b).");

        Assert.Equal(["https://github.com/a/b"], links);
    }

    [Fact]
    public void Parse_HtmlListingBehindSafeLinks_StoresTheRealLinksAndArxivIds()
    {
        static string Safe(string url) => "https://eur02.safelinks.protection.outlook.com/?url=" + Uri.EscapeDataString(url) + "&amp;data=05%7C02&amp;reserved=0";
        var paper = Listings.ExpectedPapers[0];
        var html = $"<p>Mar 11</p><h3><a href=\"{Safe("https://arxiv.org/abs/2503.01234")}\">{paper.Title}</a></h3>"
            + $"<p>{System.Net.WebUtility.HtmlEncode(paper.Abstract)} Code: <a href=\"{Safe("https://github.com/a/b")}\">GitHub</a></p>";
        var message = Listings.NewMessage();
        message.Body = new TextPart("html") { Text = html };

        var parsed = Assert.Single(Listings.Parse(Listings.RoundTrip(message)).Papers);

        Assert.Equal("2503.01234", parsed.ArxivId);
        Assert.Equal(["https://github.com/a/b"], parsed.Links);
    }
}
