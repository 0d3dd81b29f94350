using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.Extensions.Caching.Memory;
using MimeKit.Encodings;
using MimeKit.IO;
using Newsletter.Mail;

namespace Newsletter.Digests;

/// <summary>
/// A body part exactly as it goes on the wire: UTF-8, quoted-printable, LF line ends (MimeKit writes CRLF). Pieces
/// encoded separately concatenate into valid quoted-printable: each ends at a line end or with a soft line break.
/// A concatenation keeps its pieces (a cached paper block is shared by every digest that shows it) and is read through
/// them in order: copying them into one array was a sixth of everything a fan-out allocated.
/// </summary>
public sealed class EncodedPart
{
    private readonly byte[][] _pieces;

    private EncodedPart(byte[][] pieces, int length, int lineEnds)
    {
        _pieces = pieces;
        Length = length;
        WireLength = length + lineEnds;
    }

    /// <summary>Bytes as stored, with LF line ends.</summary>
    public int Length { get; }

    /// <summary>Bytes on the wire, where every line ends in CRLF.</summary>
    public int WireLength { get; }

    /// <summary>A seekable stream over the pieces, for <see cref="MimeKit.MimeContent"/>: it rewinds before each write.</summary>
    public Stream OpenRead()
    {
        if (_pieces.Length == 1)
        {
            return new MemoryStream(_pieces[0], writable: false);
        }
        var chained = new ChainedStream();
        foreach (var piece in _pieces)
        {
            chained.Add(new MemoryStream(piece, writable: false));
        }
        return chained;
    }

    /// <summary>
    /// The bytes as they go on the wire, every LF made CRLF, in chunks written into <paramref name="buffer"/>: each chunk
    /// is valid until the next is asked for. Quoted-printable has no CR of its own (it encodes one as =0D) and ends with
    /// a line end, so this is what MimeKit's line-end filter would write.
    /// </summary>
    internal IEnumerable<ReadOnlyMemory<byte>> WireChunks(byte[] buffer)
    {
        var at = 0;
        foreach (var piece in _pieces)
        {
            var start = 0;
            while (start < piece.Length)
            {
                if (buffer.Length - at <= 2)
                {
                    yield return buffer.AsMemory(0, at);
                    at = 0;
                }
                // As much of the line as fits, with its CRLF when the whole line did.
                var lineEnd = piece.AsSpan(start).IndexOf((byte)'\n');
                var line = lineEnd < 0 ? piece.Length - start : lineEnd;
                var copied = Math.Min(line, buffer.Length - at - 2);
                piece.AsSpan(start, copied).CopyTo(buffer.AsSpan(at));
                at += copied;
                start += copied;
                if (copied == line && lineEnd >= 0)
                {
                    buffer[at++] = (byte)'\r';
                    buffer[at++] = (byte)'\n';
                    start++;
                }
            }
        }
        if (at > 0)
        {
            yield return buffer.AsMemory(0, at);
        }
    }

    /// <summary>The text again (tests, previews): what a mail client shows.</summary>
    public string Decode()
    {
        var bytes = _pieces.Length == 1 ? _pieces[0] : _pieces.SelectMany(p => p).ToArray();
        var decoder = new QuotedPrintableDecoder();
        var output = new byte[decoder.EstimateOutputLength(bytes.Length)];
        var length = decoder.Decode(bytes, 0, bytes.Length, output);
        return Encoding.UTF8.GetString(output, 0, length);
    }

    /// <summary>Encodes text on its own: the result starts and ends at a line start.</summary>
    public static EncodedPart Encode(ReadOnlySpan<char> text)
    {
        // Scratch buffers from the pool, the result copied out at its exact size: cached blocks are kept for long and
        // quoted-printable's worst case is three times the input.
        var encoder = new QuotedPrintableEncoder();
        var utf8 = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        var scratch = ArrayPool<byte>.Shared.Rent(encoder.EstimateOutputLength(utf8.Length));
        try
        {
            var count = Encoding.UTF8.GetBytes(text, utf8);
            var length = encoder.Flush(utf8, 0, count, scratch);
            var encoded = scratch.AsSpan(0, length);
            return new EncodedPart([encoded.ToArray()], length, encoded.Count((byte)'\n'));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    /// <summary>Pieces in order, as one part; the bytes are not copied.</summary>
    public static EncodedPart Concat(IReadOnlyList<EncodedPart> pieces)
    {
        var length = 0;
        var wire = 0;
        var count = 0;
        foreach (var piece in pieces)
        {
            length += piece.Length;
            wire += piece.WireLength;
            count += piece._pieces.Length;
        }

        var all = new byte[count][];
        var at = 0;
        foreach (var piece in pieces)
        {
            piece._pieces.CopyTo(all, at);
            at += piece._pieces.Length;
        }
        return new EncodedPart(all, length, wire - length);
    }
}

/// <summary>A rendered digest: both bodies, transfer-encoded, and how many of the matched papers they show.</summary>
public sealed class RenderedDigest(EncodedPart html, EncodedPart text, int papersShown)
{
    private string? _html;
    private string? _text;

    public EncodedPart HtmlPart { get; } = html;

    public EncodedPart TextPart { get; } = text;

    public int PapersShown { get; } = papersShown;

    public string Html => _html ??= HtmlPart.Decode();

    public string Text => _text ??= TextPart.Decode();
}

/// <summary>
/// Renders digests with the templates in Digest/: Digest.html and Digest.text lay out the email around
/// <c>@Model.PaperBlocks</c>, and Paper.html and Paper.text render one paper. A paper's block depends only on the
/// paper and the terms it matched, so it is rendered and quoted-printable encoded once and reused by every digest that
/// shows the same (<see cref="DigestPaper.BlockKey"/>); a digest then costs its small frame and a copy of bytes.
/// Singleton and thread-safe: templates are CSS-inlined and compiled once.
/// </summary>
public sealed class DigestRenderer : IDisposable
{
    /// <summary>Gmail clips messages larger than 102 KB; a composed digest stays below this.</summary>
    public const int MaxMessageBytes = 102_000;

    /// <summary>Room kept for the top-level headers (subject, List-*, DKIM signature, ...) and a safety margin.</summary>
    internal const int HeaderAllowance = 8_192;

    /// <summary>multipart/alternative boundaries and the two parts' own headers.</summary>
    internal const int PartsOverhead = 512;

    internal const int BodyBudget = MaxMessageBytes - HeaderAllowance;

    internal const string HtmlKey = "Digest/Digest.html";
    internal const string TextKey = "Digest/Digest.text";
    internal const string PaperHtmlKey = "Digest/Paper.html";
    internal const string PaperTextKey = "Digest/Paper.text";
    internal const string PaperFooterHtmlKey = "Digest/PaperFooter.html";
    internal const string PaperFooterTextKey = "Digest/PaperFooter.text";
    internal const string LayoutKey = "Shared/_EmailLayout";

    private const long FooterCacheBytes = 4 * 1024 * 1024;

    /// <summary>The most one paper's block may take of a mail (a quarter); a bigger one is shown shortened.</summary>
    internal const int MaxBlockBytes = BodyBudget / 4;

    /// <summary>Code links a shortened paper keeps.</summary>
    private const int ShortenedLinks = 5;

    private readonly EmailTemplates _templates;
    private readonly Lazy<Task> _compiled;
    private readonly MemoryCache _blocks;
    private readonly MemoryCache _footers;

    public DigestRenderer(EmailTemplates templates, int blockCacheMegabytes = TemplateOptions.DefaultPaperBlockCacheMegabytes)
    {
        _templates = templates;
        _compiled = new Lazy<Task>(CompileAsync, LazyThreadSafetyMode.ExecutionAndPublication);
        // Sized in bytes; when full, the least recently used blocks go first.
        _blocks = new MemoryCache(new MemoryCacheOptions
        {
            SizeLimit = Math.Max(1, blockCacheMegabytes) * 1024L * 1024,
            CompactionPercentage = 0.25,
            TrackStatistics = true,
        });
        // Footers differ only by their reason: a few per issue.
        _footers = new MemoryCache(new MemoryCacheOptions { SizeLimit = FooterCacheBytes, CompactionPercentage = 0.25 });
    }

    /// <summary>Blocks reused and rendered so far (a low hit rate means the cache is too small for the subscribers' variety).</summary>
    public MemoryCacheStatistics? BlockCacheStatistics => _blocks.GetCurrentStatistics();

    /// <summary>Compiles the templates now (about 2 s) instead of on the first render.</summary>
    public Task WarmUpAsync(CancellationToken ct) => _compiled.Value.WaitAsync(ct);

    public async Task<RenderedDigest> RenderAsync(DigestModel model, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(model);
        await WarmUpAsync(ct).ConfigureAwait(false);

        // The usual digest shows every paper; the frame for all of them is rendered first.
        var all = model.Papers.Count;
        var frame = await RenderFrameAsync(model, all).ConfigureAwait(false);
        var entries = new List<Entry>(all);
        var size = frame.WireLength;
        foreach (var paper in model.Papers)
        {
            ct.ThrowIfCancellationRequested();
            var entry = new Entry(await BlockAsync(paper).ConfigureAwait(false), await FooterAsync(paper).ConfigureAwait(false), paper.Suggested);
            size += frame.Weigh(entry);
            if (size > BodyBudget)
            {
                break;
            }
            entries.Add(entry);
        }

        // Too big for Gmail: fewer papers and a "n more papers" line. The frame changes with the count, so it is rendered
        // for the cut and papers dropped from the end (suggestions first) until the exact size fits.
        var shown = entries.Count;
        while (shown < all)
        {
            frame = await RenderFrameAsync(model, shown).ConfigureAwait(false);
            size = frame.WireLength;
            for (var i = 0; i < shown; i++)
            {
                size += frame.Weigh(entries[i]);
            }
            if (size <= BodyBudget || shown == 0)
            {
                break;
            }
            shown--;
        }

        return new RenderedDigest(
            Assemble(frame.Html, frame.HtmlMarkers, entries, shown, e => e.Block.Html, e => e.Footer.Html),
            Assemble(frame.Text, frame.TextMarkers, entries, shown, e => e.Block.Text, e => e.Footer.Text),
            shown);
    }

    public void Dispose()
    {
        _blocks.Dispose();
        _footers.Dispose();
    }

    private async Task<PaperBlock> BlockAsync(DigestPaper paper)
    {
        if (paper.BlockKey is { } key && _blocks.TryGetValue(key, out PaperBlock? cached))
        {
            return cached!;
        }

        var block = await RenderBlockAsync(paper).ConfigureAwait(false);
        for (var keep = paper.Abstract.Length / 2; block.Html.WireLength + block.Text.WireLength > MaxBlockBytes && keep > 0; keep /= 2)
        {
            // One paper that no mail could hold would leave every paper out: it is shown shortened, whole in the web copy.
            block = await RenderBlockAsync(Shortened(paper, keep)).ConfigureAwait(false);
        }
        if (paper.BlockKey is not null)
        {
            using var entry = _blocks.CreateEntry(paper.BlockKey);
            entry.Value = block;
            entry.Size = block.Html.Length + block.Text.Length + (paper.BlockKey.Length * 2) + 200;
        }
        return block;
    }

    private async Task<PaperBlock> RenderBlockAsync(DigestPaper paper)
    {
        var view = new DigestPaperView(paper);
        return new PaperBlock(
            await _templates.RenderAsync(PaperHtmlKey, view, EncodedPart.Encode).ConfigureAwait(false),
            await _templates.RenderAsync(PaperTextKey, view, EncodedPart.Encode).ConfigureAwait(false));
    }

    /// <summary>The paper with the first <paramref name="keep"/> characters of its abstract and its first few links.</summary>
    private static DigestPaper Shortened(DigestPaper paper, int keep)
    {
        if (char.IsHighSurrogate(paper.Abstract[keep - 1]))
        {
            keep--;
        }
        return paper with
        {
            Abstract = paper.Abstract[..keep].TrimEnd() + " … (shortened for the mail: the web copy has it whole)",
            CodeLinks = [.. paper.CodeLinks.Take(ShortenedLinks)],
            TitleHighlights = paper.TitleHighlights,
            AbstractHighlights = [.. paper.AbstractHighlights.Where(h => h.Start + h.Length <= keep)],
        };
    }

    /// <summary>The reader's own lines under a paper (its reason and vote links): rendered once per reason, filled per digest.</summary>
    private async Task<PaperBlock> FooterAsync(DigestPaper paper)
    {
        var key = new FooterKey(paper.Reason ?? "", paper.Votes is not null);
        if (!_footers.TryGetValue(key, out (PaperFooter Html, PaperFooter Text) footer))
        {
            var view = new PaperFooterView(key.Reason, key.HasVotes);
            footer = (await _templates.RenderAsync(PaperFooterHtmlKey, view, PaperFooter.Split).ConfigureAwait(false),
                await _templates.RenderAsync(PaperFooterTextKey, view, PaperFooter.Split).ConfigureAwait(false));
            using var entry = _footers.CreateEntry(key);
            entry.Value = footer;
            entry.Size = ((footer.Html.Length + footer.Text.Length + key.Reason.Length) * 2) + 200;
        }
        return new PaperBlock(footer.Html.Fill(paper.Votes, HtmlEncoder.Default), footer.Text.Fill(paper.Votes, encoder: null));
    }

    private async Task<Frame> RenderFrameAsync(DigestModel model, int papersShown)
    {
        var view = new DigestView(model, papersShown);
        var (html, htmlMarkers) = await _templates.RenderAsync(HtmlKey, view, Split).ConfigureAwait(false);
        var (text, textMarkers) = await _templates.RenderAsync(TextKey, view, Split).ConfigureAwait(false);
        return new Frame(html, htmlMarkers, text, textMarkers);
    }

    /// <summary>The frame's text between its slots' markers, each piece encoded on its own, and the markers in order.</summary>
    private static (EncodedPart[] Pieces, char[] Markers) Split(ReadOnlySpan<char> frame)
    {
        var pieces = new List<EncodedPart>(3);
        var markers = new List<char>(2);
        var rest = frame;
        while (true)
        {
            var marker = rest.IndexOfAnyInRange('\uFDD0', '\uFDEF');
            pieces.Add(EncodedPart.Encode(marker < 0 ? rest : rest[..marker]));
            if (marker < 0)
            {
                return ([.. pieces], [.. markers]);
            }
            markers.Add(rest[marker]);
            // A marker on a line of its own stands for the blocks, which end their own lines: its line end is dropped.
            rest = rest[(marker + 1)..];
            rest = rest.StartsWith("\r\n") ? rest[2..] : rest.StartsWith("\n") ? rest[1..] : rest;
        }
    }

    private static EncodedPart Assemble(EncodedPart[] frame, char[] markers, List<Entry> entries, int shown,
        Func<Entry, EncodedPart> block, Func<Entry, EncodedPart> footer)
    {
        var pieces = new List<EncodedPart>(frame.Length + (2 * markers.Length * shown));
        for (var i = 0; i < frame.Length; i++)
        {
            if (i > 0)
            {
                var suggestions = markers[i - 1] == PaperBlocks.SuggestionsMarker;
                for (var e = 0; e < shown; e++)
                {
                    if (entries[e].Suggested == suggestions)
                    {
                        pieces.Add(block(entries[e]));
                        pieces.Add(footer(entries[e]));
                    }
                }
            }
            pieces.Add(frame[i]);
        }
        return EncodedPart.Concat(pieces);
    }

    private async Task CompileAsync()
    {
        foreach (var key in new[] { LayoutKey, HtmlKey, TextKey, PaperHtmlKey, PaperTextKey, PaperFooterHtmlKey, PaperFooterTextKey })
        {
            await _templates.CompileAsync(key).ConfigureAwait(false);
        }
    }

    private sealed record PaperBlock(EncodedPart Html, EncodedPart Text);

    /// <summary>What a rendered footer depends on besides the links.</summary>
    private sealed record FooterKey(string Reason, bool HasVotes);

    /// <summary>A paper as a digest shows it: the shared block, then this reader's footer.</summary>
    private sealed record Entry(PaperBlock Block, PaperBlock Footer, bool Suggested);

    /// <summary>A rendered frame: the pieces around its slots' markers, and which slot each marker is.</summary>
    private sealed record Frame(EncodedPart[] Html, char[] HtmlMarkers, EncodedPart[] Text, char[] TextMarkers)
    {
        public long WireLength { get; } = PartsOverhead + Html.Sum(p => (long)p.WireLength) + Text.Sum(p => (long)p.WireLength);

        private readonly (int Html, int Text) _matchSlots = (Count(HtmlMarkers, PaperBlocks.MatchesMarker), Count(TextMarkers, PaperBlocks.MatchesMarker));
        private readonly (int Html, int Text) _suggestionSlots = (Count(HtmlMarkers, PaperBlocks.SuggestionsMarker), Count(TextMarkers, PaperBlocks.SuggestionsMarker));

        /// <summary>What one paper adds: its block and footer once per marker of its group in each part.</summary>
        public long Weigh(Entry entry)
        {
            var (html, text) = entry.Suggested ? _suggestionSlots : _matchSlots;
            return (html * (long)(entry.Block.Html.WireLength + entry.Footer.Html.WireLength))
                + (text * (long)(entry.Block.Text.WireLength + entry.Footer.Text.WireLength));
        }

        private static int Count(char[] markers, char marker) => markers.AsSpan().Count(marker);
    }
}
