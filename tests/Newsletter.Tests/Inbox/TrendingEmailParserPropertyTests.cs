using System.Text;
using CsCheck;
using MimeKit;
using Newsletter.Inbox;
using Newsletter.Papers;

namespace Newsletter.Tests.Inbox;

/// <summary>
/// Random variants of the real sample listings (text and HTML): inserted links, brackets, long runs, markup, random
/// Unicode, forward headers, cut and repeated pieces, other charsets and transfer encodings, truncated messages. Each
/// parses within the poller's budget, never throws, gives every paper a title and an abstract and only absolute
/// http(s) links, and parses the same way twice. The iteration count is fixed, so CI spends a bounded time; set
/// CsCheck_Iter or CsCheck_Time to search longer, and CsCheck_Seed to repeat a failure. Every input these tests
/// have found is kept in TestData/Regressions and checked by <see cref="Parse_RegressionCase_KeepsTheProperties"/>.
/// </summary>
public sealed class TrendingEmailParserPropertyTests
{
    private const int Iterations = 150;

    private static readonly string[] Seeds = LoadSeeds();

    // Characters that a parsing step treats specially: quoting, brackets, TeX, markup, combining marks, spaces.
    private const string RunChars = "-> \n()[]*_~\\&<#.:\u0301\u0334\u0308\u200B\u00A0\t\r1aé▲\u202E";

    private static readonly Gen<int> Count = Gen.Frequency((4, Gen.Int[1, 30]), (2, Gen.Int[30, 3_000]), (1, Gen.Int[3_000, 80_000]));

    private static readonly Gen<double> Where = Gen.Double[0, 1];

    private static readonly Gen<Mutation> Mutations = Gen.Frequency(
        (3, Insert("a link with repeated schemes", Count.Select(n => "https://a.example/" + Repeat("http://", n) + " word"))),
        (3, Insert("a link ending in brackets", Gen.Select(Count, Gen.Char["()[]{}<>.,;:'\"*"], (n, c) => " https://a.example/x(y)" + new string(c, n) + " "))),
        (3, Insert("a run", Gen.Select(Count, Gen.Char[RunChars], (n, c) => new string(c, n)))),
        (2, Insert("two runs", Gen.Select(Count, Gen.Char[RunChars], Gen.Char[RunChars], (n, a, b) => new string(a, n) + new string(b, n)))),
        (3, Insert("random Unicode", Gen.Char['\0', '\uFFFF'].Array[1, 300].Select(chars => new string(chars)))),
        (2, Insert("markup", Gen.Select(Count, Gen.OneOf("<div>", "<b id=\"x\">", "<p hidden>", "<style>", "</p>", "<a href=\"https://x.example/\">",
            "<br>", "<table><tr><td>", "&amp;", "&#x301;", "<!--", "<li>", "</div>", "<svg>", "<![CDATA["), (n, tag) => Repeat(tag, n)))),
        (2, Insert("a forward header", Gen.OneOf("\n---------- Forwarded message ---------\n", "\nFrom: a@b.example\nDate: Tue, 11 Mar 2025 14:02:31 +0000\nSubject: x\n\n",
            "\n> ", "\n\n> > > ", "\nBegin forwarded message:\n\n", "\nYou are receiving this email because\n"))),
        (2, Insert("a date", Gen.OneOf("\nMar 11\n\n", "\n31 Feb 2025\n\n", "\nTuesday, March 11, 2025\n\n", "\nFeb 29\n\n", "\n12 upvotes · 3 comments\n"))),
        (1, Gen.Select(Where, Where, (a, b) => new Mutation($"cut {Math.Min(a, b):P0}-{Math.Max(a, b):P0}",
            text => text.Remove(At(text, Math.Min(a, b)), At(text, Math.Max(a, b)) - At(text, Math.Min(a, b)))))),
        (1, Gen.Select(Where, Where, Gen.Int[1, 5], (a, b, n) => new Mutation($"repeat {Math.Min(a, b):P0}-{Math.Max(a, b):P0} {n} times",
            text => text.Insert(At(text, Math.Max(a, b)), Repeat(text[At(text, Math.Min(a, b))..At(text, Math.Max(a, b))], n))))));

    private static readonly Gen<Variant> Variants =
        from seed in Gen.Int[0, Seeds.Length - 1]
        from mutations in Mutations.Array[0, 4]
        from html in Gen.Bool
        from charset in Gen.OneOf("utf-8", "iso-8859-1", "x-unknown-charset", "us-ascii")
        from encoding in Gen.OneOf(ContentEncoding.Base64, ContentEncoding.QuotedPrintable, ContentEncoding.EightBit)
        from truncateAt in Gen.Frequency((5, Gen.Const(1.0)), (1, Gen.Double[0.05, 1]))
        select Variant.Build(seed, mutations, html, charset, encoding, truncateAt);

    [Fact]
    public void Parse_VariantsOfTheSamples_KeepTheProperties()
    {
        Variants.Sample(variant => AssertProperties(variant.Raw), iter: Iterations, print: variant => variant.Description);
    }

    [Fact]
    public void Extract_RandomText_GivesOnlyAbsoluteHttpLinksWithoutTrailingPunctuation()
    {
        var text = Gen.Frequency(
            (1, Gen.Char['\0', '\uFFFF'].Array[0, 500].Select(chars => new string(chars))),
            (3, Gen.String[" hxtps:/()[]{}<>.,;'\"a1~%é\u0301"]),
            (2, Gen.Select(Count, Gen.Char["()[]{}.,"], (n, c) => "see https://a.example/p(q)" + new string(c, n))));

        text.Sample(t =>
        {
            var links = LinkExtractor.Extract(t);
            Assert.True(links.Count <= LinkExtractor.MaxLinks);
            Assert.All(links, AssertAbsoluteHttp);
            Assert.All(links, link => Assert.Equal(link, LinkExtractor.Trim(link)));
            Assert.Equal(links, LinkExtractor.Extract(t));
        }, iter: 2_000);
    }

    [Fact]
    public void Normalize_RandomText_IsIdempotentAndHasNoControlCharacters()
    {
        var text = Gen.Frequency(
            (2, Gen.Char['\0', '\uFFFF'].Array[0, 300].Select(chars => new string(chars))),
            (1, Gen.Select(Count, Gen.Char["\u0301\u0334\u0308\u20DD\u200B \t"], (n, c) => "e" + new string(c, n) + "\u200B" + new string(c, n))));

        text.Sample(t =>
        {
            var normal = TextNormalizer.Normalize(t, decodeHtmlEntities: true);
            Assert.Equal(normal, TextNormalizer.Normalize(normal));
            Assert.DoesNotContain(normal, char.IsControl);
        }, iter: 2_000);
    }

    public static TheoryData<string> RegressionCases() =>
        [.. Directory.GetFiles(Listings.Path("TestData/Regressions"), "*.eml").Select(file => Path.GetFileName(file)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(RegressionCases))]
    public void Parse_RegressionCase_KeepsTheProperties(string file)
    {
        AssertProperties(File.ReadAllBytes(Listings.Path(Path.Combine("TestData/Regressions", file))));
    }

    private static void AssertProperties(byte[] raw)
    {
        var ct = TestContext.Current.CancellationToken;
        MimeMessage message;
        try
        {
            message = TrendingEmailParser.LoadPersistent(raw, ct);
        }
        catch (FormatException)
        {
            return; // Not a readable email: the ingestor quarantines it before parsing.
        }

        var parser = new TrendingEmailParser();
        var listing = parser.Parse(message, Listings.HangGuard, ct);
        Assert.All(listing.Papers, paper =>
        {
            Assert.False(string.IsNullOrWhiteSpace(paper.Title));
            Assert.False(string.IsNullOrWhiteSpace(paper.Abstract));
            Assert.InRange(paper.Title.Length, 1, ListingReader.MaxTitleChars);
            Assert.InRange(paper.Abstract.Length, 1, ListingReader.MaxAbstractChars);
            Assert.InRange(paper.Links.Count, 0, LinkExtractor.MaxLinks);
            Assert.All(paper.Links, AssertAbsoluteHttp);
        });
        var again = parser.Parse(TrendingEmailParser.LoadPersistent(raw, ct), Listings.HangGuard, ct);
        Assert.Equal(TrendingEmailParser.ToJson(listing), TrendingEmailParser.ToJson(again));
    }

    private static void AssertAbsoluteHttp(string link)
    {
        Assert.True(Uri.TryCreate(link, UriKind.Absolute, out var uri), link);
        Assert.Contains(uri.Scheme, new[] { Uri.UriSchemeHttp, Uri.UriSchemeHttps });
        Assert.False(string.IsNullOrEmpty(uri.Host), link);
    }

    private static string[] LoadSeeds()
    {
        var seeds = new List<string>();
        foreach (var file in Directory.GetFiles(Listings.Path("TestData"), "*.eml").Order(StringComparer.Ordinal))
        {
            using var stream = File.OpenRead(file);
            var message = MimeMessage.Load(stream);
            seeds.AddRange(new[] { message.TextBody, message.HtmlBody }.OfType<string>());
        }

        return [.. seeds];
    }

    private static Gen<Mutation> Insert(string what, Gen<string> text) =>
        Gen.Select(Where, text, (at, inserted) => new Mutation($"insert {what} ({inserted.Length:N0} chars) at {at:P0}",
            body => body.Insert(At(body, at), inserted)));

    private static int At(string text, double where) => (int)Math.Round(where * text.Length);

    private static string Repeat(string text, int times) => new StringBuilder(text.Length * times).Insert(0, text, times).ToString();

    private sealed record Mutation(string Description, Func<string, string> Apply);

    private sealed record Variant(string Description, byte[] Raw)
    {
        public static Variant Build(int seed, Mutation[] mutations, bool html, string charset, ContentEncoding encoding, double truncateAt)
        {
            var body = mutations.Aggregate(Seeds[seed], (text, mutation) => mutation.Apply(text));
            var message = Listings.NewMessage();
            var part = new TextPart(html ? "html" : "plain") { ContentTransferEncoding = encoding };
            part.SetText(charset == "iso-8859-1" ? Encoding.Latin1 : Encoding.UTF8, body);
            part.ContentType.Charset = charset;
            message.Body = part;
            using var stream = new MemoryStream();
            message.WriteTo(stream);
            var raw = stream.ToArray()[..(int)(stream.Length * truncateAt)];
            var description = $"seed {seed} as text/{(html ? "html" : "plain")}; charset={charset}; {encoding}"
                + string.Concat(mutations.Select(m => "; " + m.Description))
                + (truncateAt < 1 ? $"; message cut at {truncateAt:P0}" : "");
            return new Variant(description, raw);
        }
    }
}
