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
    /// <param name="papersShown">How many of the model's papers fit, in its order: keyword matches first, then suggestions.</param>
    internal DigestView(DigestModel model, int papersShown)
    {
        Model = model;
        var shown = model.Papers.Take(papersShown).ToList();
        Papers = shown.Where(p => !p.Suggested).Select(p => new DigestPaperView(p)).ToList();
        Suggestions = shown.Where(p => p.Suggested).Select(p => new DigestPaperView(p)).ToList();
        var matched = model.Papers.Count(p => !p.Suggested);
        MorePapers = Math.Max(model.TotalMatched, matched) - Papers.Count;
    }

    public DigestModel Model { get; }

    public string Title => Model.IssueSubject;

    // Every match, also those the size cut left for the web copy: the subject counts them too.
    public string Preheader => (Papers.Count + MorePapers, Suggestions.Count) switch
    {
        // Matches the votes hid did match: said so, not "no paper".
        (0, var suggested) when HiddenMatches > 0 => HiddenMatches == 1
            ? $"1 paper matched your keywords {When} but looks like ones you voted down{MoreForYou(suggested)}."
            : $"{HiddenMatches} papers matched your keywords {When} but look like ones you voted down{MoreForYou(suggested)}.",
        (0, 0) => $"No new papers matched your interests {When}.",
        (0, var suggested) => $"No paper matched your keywords {When}; {suggested} more for you.",
        (1, _) => $"1 paper matched your interests {When}.",
        (var matched, _) => $"{matched} papers matched your interests {When}.",
    };

    private string When => Model.Weekly ? "this week" : "today";

    private static string MoreForYou(int suggested) => suggested == 0 ? "" : $"; {suggested} more for you";

    public string Language => "en";

    /// <summary>"Tuesday, 11 March 2025", or empty when the issue has no date.</summary>
    public string IssueDate => Model.IssueDate?.ToString("dddd, d MMMM yyyy", CultureInfo.InvariantCulture) ?? "";

    /// <summary>The keyword matches shown, for templates that want more than their blocks (a table of contents, say).</summary>
    public IReadOnlyList<DigestPaperView> Papers { get; }

    /// <summary>"Also for you": papers beyond the keywords that the reader's profile scores high, best first.</summary>
    public IReadOnlyList<DigestPaperView> Suggestions { get; }

    /// <summary>Where the frame template puts the keyword matches' blocks (Digest/Paper.html or .text, one per paper shown).</summary>
    public PaperBlocks PaperBlocks => PaperBlocks.Matches;

    /// <summary>Where the frame template puts the suggestions' blocks.</summary>
    public PaperBlocks SuggestionBlocks => PaperBlocks.Suggestions;

    /// <summary>Matched papers left out to keep the email under the size limit (or not in the list at all).</summary>
    public int MorePapers { get; }

    public string MorePapersLine => MorePapers == 1
        ? "1 more paper matched — read it in the web copy"
        : $"{MorePapers} more papers matched — read them in the web copy";

    /// <summary>Keyword matches the reader's votes say they do not want: left for the web copy.</summary>
    public int HiddenMatches => Model.HiddenMatches;

    public string HiddenMatchesLine => HiddenMatches == 1
        ? "1 more paper matched your keywords but looks like ones you voted down — it is in the web copy"
        : $"{HiddenMatches} more papers matched your keywords but look like ones you voted down — they are in the web copy";

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

/// <summary>Where a frame template puts a group of papers' blocks: the keyword matches, or the suggestions.</summary>
public sealed class PaperBlocks : TemplateSlot
{
    internal const char MatchesMarker = '\uFDD0';
    internal const char SuggestionsMarker = '\uFDD1';

    internal static readonly PaperBlocks Matches = new(MatchesMarker);
    internal static readonly PaperBlocks Suggestions = new(SuggestionsMarker);

    private PaperBlocks(char marker)
        : base(marker)
    {
    }
}

/// <summary>
/// The part of a paper's entry that is the reader's own, shown after the shared block (Digest/PaperFooter.html and
/// .text): why it is there, and the signed links that teach the digest. Rendered once per reason; the links are slots
/// that each delivery fills with its own.
/// </summary>
public sealed class PaperFooterView
{
    internal PaperFooterView(string reason, bool hasVotes)
    {
        Reason = reason;
        HasVotes = hasVotes;
    }

    public string Reason { get; }

    public VoteLinkSlot MoreLink => VoteLinkSlot.More;

    public VoteLinkSlot LessLink => VoteLinkSlot.Less;

    public bool HasVotes { get; }
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
