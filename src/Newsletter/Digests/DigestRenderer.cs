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
        if (all == 0)
        {
            return await RenderPartsAsync(model, 0).ConfigureAwait(false);
        }

        // Each paper's own text is cheap to size; the template's share is learnt from the first digest that was too big.
        var textSizes = model.Papers.Select(EstimateTextBytes).ToArray();
        var layout = _layout;
        if (layout is null || layout.Estimate(textSizes, all) <= SafeEstimate)
        {
            // The usual digest: render everything, and a cheap upper bound says it fits.
            var full = await RenderPartsAsync(model, all).ConfigureAwait(false);
            if (FitsForSure(full))
            {
                return full;
            }
            if (layout is null)
            {
                var empty = await RenderPartsAsync(model, 0).ConfigureAwait(false);
                var fixedSize = EstimateBody(empty);
                layout = new Layout(fixedSize, Math.Max(0, (EstimateBody(full) - fixedSize - textSizes.Sum()) / all));
                _layout = layout; // Any digest's measurement is as good as another's: no lock.
            }
        }

        // Too big: as many papers as the estimate says fit, rendered once and then measured exactly (composing it costs
        // as much as sending it, still far less than rendering every paper first).
        var shown = 0;
        while (shown < all && layout.Estimate(textSizes, shown + 1) <= BodyBudget)
        {
            shown++;
        }

        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var cut = await RenderPartsAsync(model, shown).ConfigureAwait(false);
            if (FitsForSure(cut))
            {
                return cut;
            }
            var overshoot = DigestComposer.MeasureBody(cut.Html, cut.Text) - BodyBudget;
            if (overshoot <= 0 || shown == 0)
            {
                return cut;
            }

            // The estimate was off: drop enough papers from the end to cover the overshoot.
            for (long removed = 0; shown > 0 && removed < overshoot;)
            {
                shown--;
                removed += layout.PerPaper + textSizes[shown];
            }
        }
    }

    /// <summary>Largest cheap estimate for which <see cref="FitsForSure"/> holds.</summary>
    private const long SafeEstimate = (long)(BodyBudget / 1.1) - 2_048;

    private volatile Layout? _layout;

    /// <summary>What the templates add around the papers, and per paper besides its own text (quoted-printable bytes).</summary>
    private sealed record Layout(long Fixed, long PerPaper)
    {
        public long Estimate(long[] textSizes, int papers)
        {
            var size = Fixed;
            for (var i = 0; i < papers; i++)
            {
                size += PerPaper + textSizes[i];
            }
            return size;
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
        // One pass over each piece, no copies: this runs for every paper of every digest.
        var size = EncodedBoth(paper.Title) + EncodedBoth(paper.Abstract) + (2 * EncodedBoth(paper.Url));
        foreach (var link in paper.CodeLinks)
        {
            size += 3 * EncodedBoth(link);
        }
        foreach (var term in paper.MatchedTerms)
        {
            size += EncodedBoth(term) + 4; // ", " in each part
        }
        return size;
    }

    /// <summary>
    /// Quoted-printable bytes of a piece of text in both parts: HTML-encoded in one (non-ASCII and markup characters
    /// become character references such as <c>&amp;#xE9;</c>), as is in the other.
    /// </summary>
    private static long EncodedBoth(string value)
    {
        long length = 0;
        foreach (var c in value)
        {
            length += c switch
            {
                '=' => 3 + 3,
                '<' or '>' or '&' or '"' or '\'' or '+' or '`' => 6 + 1,
                >= ' ' and < '\x7f' => 1 + 1,
                < '\x80' => 6 + 3,
                _ => 8 + 9,
            };
        }
        return length;
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
