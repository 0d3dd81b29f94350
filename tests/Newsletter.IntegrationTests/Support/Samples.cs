using System.Text;
using MimeKit;

namespace Newsletter.IntegrationTests.Support;

/// <summary>The real sample listing, and listings of other days built from its papers.</summary>
internal static class Samples
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "TestData");

    public static byte[] SampleEml => File.ReadAllBytes(Path.Combine(Directory, "trending-papers-2025-03-11.eml"));

    public static MimeMessage SampleMessage() => MimeMessage.Load(new MemoryStream(SampleEml));

    /// <summary>The sample's (title, abstract) pairs, read from the plain listing independently of the app's parser.</summary>
    public static IReadOnlyList<(string Title, string Abstract)> SamplePapers()
    {
        var paragraphs = File.ReadAllText(Path.Combine(Directory, "trending-papers-2025-03-11.txt"))
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToList();
        var start = paragraphs.IndexOf("Mar 11") + 1;
        var papers = new List<(string, string)>();
        for (var i = start; i + 1 < paragraphs.Count; i += 2)
        {
            papers.Add((paragraphs[i], paragraphs[i + 1]));
        }
        return papers;
    }

    /// <summary>The sample's papers whose title or abstract says <paramref name="word"/>: a listing that costs the fan-out's
    /// embedding a few papers instead of seventy, for tests about sending rather than about the listing.</summary>
    public static IReadOnlyList<(string Title, string Abstract)> SamplePapersSaying(params string[] words) =>
        [.. SamplePapers().Where(p => words.Any(w => (p.Title + " " + p.Abstract).Contains(w, StringComparison.OrdinalIgnoreCase)))];

    /// <summary>A plain-text listing in the sample's shape, from the given sender, for the given day.</summary>
    public static MimeMessage Listing(DateOnly day, IEnumerable<(string Title, string Abstract)> papers,
        string from = "papers@notifications.huggingface.co", string? messageId = null)
    {
        var body = new StringBuilder()
            .Append("new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\n")
            .Append(day.ToString("MMM d", System.Globalization.CultureInfo.InvariantCulture)).Append("\n\n");
        foreach (var (title, summary) in papers)
        {
            body.Append(title).Append("\n\n").Append(summary).Append("\n\n");
        }
        var message = new MimeMessage
        {
            Subject = $"Trending papers - {day:MMM d}",
            Date = new DateTimeOffset(day.ToDateTime(new TimeOnly(14, 2)), TimeSpan.Zero),
            MessageId = messageId ?? $"trending-{day:yyyy-MM-dd}.{Guid.NewGuid():N}@notifications.huggingface.co",
            Body = new TextPart("plain") { Text = body.ToString() },
        };
        message.From.Add(new MailboxAddress("Hugging Face", from));
        message.To.Add(new MailboxAddress("", "papers-inbox@lab.example.org"));
        return message;
    }

    public static byte[] ToBytes(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(stream);
        return stream.ToArray();
    }
}
