using System.Globalization;
using Newsletter.Subscribers;

namespace Newsletter.Digests;

/// <summary>What every HTML email layout needs from the page it wraps.</summary>
public interface IEmailPage
{
    string Title { get; }

    /// <summary>Hidden preview line that mail clients show next to the subject.</summary>
    string Preheader { get; }

    string Language { get; }
}

/// <summary>
/// The model the digest templates see: <see cref="DigestModel"/> with the cut applied and highlights split into runs,
/// so templates hold no logic. Every string here is data and is encoded by the template.
/// </summary>
public sealed class DigestView : IEmailPage
{
    internal DigestView(DigestModel model, int papersShown)
    {
        Model = model;
        Papers = model.Papers.Take(papersShown).Select(p => new DigestPaperView(p)).ToList();
        MorePapers = Math.Max(model.TotalMatched, model.Papers.Count) - Papers.Count;
    }

    public DigestModel Model { get; }

    public string Title => Model.IssueSubject;

    public string Preheader => Papers.Count switch
    {
        0 => "No new papers matched your interests today.",
        1 => "1 paper matched your interests today.",
        _ => $"{Papers.Count} papers matched your interests today.",
    };

    public string Language => "en";

    /// <summary>"Tuesday, 11 March 2025", or empty when the issue has no date.</summary>
    public string IssueDate => Model.IssueDate?.ToString("dddd, d MMMM yyyy", CultureInfo.InvariantCulture) ?? "";

    public IReadOnlyList<DigestPaperView> Papers { get; }

    /// <summary>Matched papers left out to keep the email under the size limit (or not in the list at all).</summary>
    public int MorePapers { get; }

    public string MorePapersLine => MorePapers == 1
        ? "1 more paper matched — read it in the web copy"
        : $"{MorePapers} more papers matched — read them in the web copy";

    public DigestLinks Links => Model.Links;

    public string RecipientEmail => Model.RecipientEmail;
}

/// <summary>One paper ready for a template: title and abstract as runs of plain and highlighted text.</summary>
public sealed class DigestPaperView
{
    internal DigestPaperView(DigestPaper paper)
    {
        Paper = paper;
        TitleRuns = TextRun.Split(paper.Title, paper.TitleHighlights);
        AbstractRuns = TextRun.Split(paper.Abstract, paper.AbstractHighlights);
    }

    public DigestPaper Paper { get; }

    public string Title => Paper.Title;

    public string Abstract => Paper.Abstract;

    public string Url => Paper.Url;

    public IReadOnlyList<string> CodeLinks => Paper.CodeLinks;

    public IReadOnlyList<TextRun> TitleRuns { get; }

    public IReadOnlyList<TextRun> AbstractRuns { get; }

    /// <summary>"diffusion, low-rank", or empty when the subscriber has no keywords.</summary>
    public string MatchedLine => string.Join(", ", Paper.MatchedTerms);
}

/// <summary>A piece of text, highlighted or not.</summary>
public readonly record struct TextRun(string Text, bool Highlighted)
{
    /// <summary>Splits <paramref name="text"/> at the given spans; spans out of range are clipped, overlapping ones merged.</summary>
    public static IReadOnlyList<TextRun> Split(string text, IReadOnlyList<HighlightSpan> spans)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(spans);
        if (spans.Count == 0 || text.Length == 0)
        {
            return [new TextRun(text, false)];
        }

        var clipped = spans
            .Select(s => (Start: Math.Clamp(s.Start, 0, text.Length), End: Math.Clamp(s.Start + Math.Max(s.Length, 0), 0, text.Length)))
            .Where(s => s.End > s.Start)
            .OrderBy(s => s.Start);

        var runs = new List<TextRun>();
        var position = 0;
        var markStart = -1;
        var markEnd = -1;
        foreach (var (start, end) in clipped)
        {
            if (markStart >= 0 && start <= markEnd)
            {
                markEnd = Math.Max(markEnd, end);
                continue;
            }

            Flush();
            markStart = start;
            markEnd = end;
        }

        Flush();
        if (position < text.Length)
        {
            runs.Add(new TextRun(text[position..], false));
        }

        return runs;

        void Flush()
        {
            if (markStart < 0)
            {
                return;
            }

            if (markStart > position)
            {
                runs.Add(new TextRun(text[position..markStart], false));
            }

            runs.Add(new TextRun(text[markStart..markEnd], true));
            position = markEnd;
        }
    }
}
