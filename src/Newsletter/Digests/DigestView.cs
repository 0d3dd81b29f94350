using System.Globalization;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;
using Newsletter.Mail;
using Newsletter.Subscribers;

namespace Newsletter.Digests;

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

    /// <summary>The papers shown, for templates that want more than their blocks (a table of contents, say).</summary>
    public IReadOnlyList<DigestPaperView> Papers { get; }

    /// <summary>Where the frame template puts the papers' blocks (Digest/Paper.html or .text, one per paper shown).</summary>
    public PaperBlocks PaperBlocks => PaperBlocks.Slot;

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
    private IReadOnlyList<TextRun>? _titleRuns;
    private IReadOnlyList<TextRun>? _abstractRuns;

    internal DigestPaperView(DigestPaper paper) => Paper = paper;

    public DigestPaper Paper { get; }

    public string Title => Paper.Title;

    public string Abstract => Paper.Abstract;

    public string Url => Paper.Url;

    public IReadOnlyList<string> CodeLinks => Paper.CodeLinks;

    // Split on first use: the frame's view of a paper whose block is cached never needs them.
    public IReadOnlyList<TextRun> TitleRuns => _titleRuns ??= TextRun.Split(Paper.Title, Paper.TitleHighlights);

    public IReadOnlyList<TextRun> AbstractRuns => _abstractRuns ??= TextRun.Split(Paper.Abstract, Paper.AbstractHighlights);

    /// <summary>"diffusion, low-rank", or empty when the subscriber has no keywords.</summary>
    public string MatchedLine => string.Join(", ", Paper.MatchedTerms);
}

/// <summary>
/// The place of the papers' blocks in a frame template: written as a marker character that the renderer replaces with
/// the blocks, already transfer-encoded. The marker (a Unicode noncharacter) cannot come from data: the HTML encoder
/// escapes every non-ASCII character and the text pages replace it (<see cref="TextTemplatePage{TModel}"/>).
/// </summary>
public sealed class PaperBlocks : IHtmlContent
{
    internal const char Marker = '\uFDD0';

    internal static readonly PaperBlocks Slot = new();

    private PaperBlocks()
    {
    }

    public void WriteTo(TextWriter writer, HtmlEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Marker);
    }

    public override string ToString() => Marker.ToString();
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
