using System.Text.Encodings.Web;

namespace Newsletter.Digests;

/// <summary>A rendered digest: both bodies and how many of the matched papers they show.</summary>
public sealed record RenderedDigest(string Html, string Text, int PapersShown);

/// <summary>
/// Renders digests with the templates Digest/Digest.html and Digest/Digest.text. Singleton and thread-safe: the
/// templates are CSS-inlined and compiled once (on <see cref="WarmUpAsync"/> or the first render), then each render
/// only executes compiled code.
/// </summary>
public sealed class DigestRenderer
{
    /// <summary>Gmail clips messages larger than 102 KB; a composed digest stays below this.</summary>
    public const int MaxMessageBytes = 102_000;

    /// <summary>Room kept for the top-level headers (subject, List-*, DKIM signature, ...) and a safety margin.</summary>
    internal const int HeaderAllowance = 8_192;

    internal const int BodyBudget = MaxMessageBytes - HeaderAllowance;

    internal const string HtmlKey = "Digest/Digest.html";
    internal const string TextKey = "Digest/Digest.text";
    internal const string LayoutKey = "Shared/_EmailLayout";

    private readonly EmailTemplates _templates;
    private readonly Lazy<Task> _compiled;

    public DigestRenderer(EmailTemplates templates)
    {
        _templates = templates;
        _compiled = new Lazy<Task>(CompileAsync, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Compiles the templates now (about 2 s) instead of on the first render.</summary>
    public Task WarmUpAsync(CancellationToken ct) => _compiled.Value.WaitAsync(ct);

    public async Task<RenderedDigest> RenderAsync(DigestModel model, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(model);
        await WarmUpAsync(ct).ConfigureAwait(false);

        var all = model.Papers.Count;
        var full = await RenderPartsAsync(model, all).ConfigureAwait(false);
        if (all == 0 || FitsForSure(full))
        {
            return full;
        }

        // Too big, or close: estimate each paper's cost as a fixed markup share plus its own encoded text, cut, then
        // verify the cut exactly. The estimates use the cheap quoted-printable length on both sides; an exact MIME
        // measurement costs as much as composing the message, so only the candidate that will be sent gets one.
        ct.ThrowIfCancellationRequested();
        var empty = await RenderPartsAsync(model, 0).ConfigureAwait(false);
        var fullSize = EstimateBody(full);
        var fixedSize = EstimateBody(empty);
        var textSizes = model.Papers.Select(EstimateTextBytes).ToArray();
        var markupPerPaper = Math.Max(0, (fullSize - fixedSize - textSizes.Sum()) / all);

        var shown = 0;
        for (long size = fixedSize; shown < all && size + markupPerPaper + textSizes[shown] <= BodyBudget; shown++)
        {
            size += markupPerPaper + textSizes[shown];
        }

        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var cut = shown == all ? full : await RenderPartsAsync(model, shown).ConfigureAwait(false);
            var overshoot = DigestComposer.MeasureBody(cut.Html, cut.Text) - BodyBudget;
            if (overshoot <= 0 || shown == 0)
            {
                return cut;
            }

            // The estimate was off: drop enough papers from the end to cover the overshoot.
            for (long removed = 0; shown > 0 && removed < overshoot;)
            {
                shown--;
                removed += markupPerPaper + textSizes[shown];
            }
        }
    }

    private async Task<RenderedDigest> RenderPartsAsync(DigestModel model, int papersShown)
    {
        var view = new DigestView(model, papersShown);
        var html = await _templates.RenderAsync(HtmlKey, view).ConfigureAwait(false);
        var text = await _templates.RenderAsync(TextKey, view).ConfigureAwait(false);
        return new RenderedDigest(html, text, view.Papers.Count);
    }

    private static long EstimateBody(RenderedDigest digest) => QuotedPrintableLength(digest.Html) + QuotedPrintableLength(digest.Text);

    /// <summary>
    /// Cheap upper bound (quoted-printable worst case, which MimeKit's choice of encoding never exceeds by much) so
    /// the usual small digest skips the exact MIME measurement, which costs as much as composing the message.
    /// </summary>
    private static bool FitsForSure(RenderedDigest digest) =>
        (QuotedPrintableLength(digest.Html) + QuotedPrintableLength(digest.Text) + 2_048) * 1.1 <= BodyBudget;

    private async Task CompileAsync()
    {
        foreach (var key in new[] { LayoutKey, HtmlKey, TextKey })
        {
            await _templates.CompileAsync(key).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Bytes a paper's own text adds to both parts once HTML- and transfer-encoded (quoted-printable: 3 bytes for
    /// each non-ASCII byte or '=', plus soft line breaks).
    /// </summary>
    private static long EstimateTextBytes(DigestPaper paper)
    {
        var text = new System.Text.StringBuilder(paper.Title.Length + paper.Abstract.Length + 256)
            .Append(paper.Title).Append(paper.Abstract).Append(paper.Url).Append(paper.Url)
            .AppendJoin("", paper.CodeLinks).AppendJoin("", paper.CodeLinks).AppendJoin("", paper.CodeLinks)
            .AppendJoin(", ", paper.MatchedTerms)
            .ToString();
        return QuotedPrintableLength(HtmlEncoder.Default.Encode(text)) + QuotedPrintableLength(text);
    }

    private static long QuotedPrintableLength(string value)
    {
        long length = 0;
        foreach (var c in value)
        {
            // Non-ASCII: up to 3 UTF-8 bytes (a surrogate pair counts 2 x 3 for 4 bytes), each "=XX".
            length += c is >= ' ' and < '\x7f' and not '=' ? 1 : c < '\x80' ? 3 : 9;
        }

        return length + (length / 73 * 3);
    }
}
