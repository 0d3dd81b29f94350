using System.Buffers;
using MimeKit;
using MimeKit.Text;

namespace Newsletter.Digests;

/// <summary>
/// A text part whose content is already quoted-printable (<see cref="EncodedPart"/>): MimeKit copies it instead of
/// encoding it, and on the wire (CRLF line ends) it is written with its line ends converted in one pass,
/// instead of through MimeKit's line-end filter and its buffers for every part of every message. Other formats (a
/// pickup folder's LF files) take MimeKit's way.
/// </summary>
internal sealed class EncodedTextPart : TextPart
{
    // Written in chunks of a small pooled buffer: one buffer of a whole part (40-100 KB) per message kept the pool's
    // large arrays alive.
    private const int ChunkBytes = 16 * 1024;

    private readonly EncodedPart _encoded;

    public EncodedTextPart(TextFormat format, EncodedPart content)
        : base(format)
    {
        _encoded = content;
        ContentTransferEncoding = ContentEncoding.QuotedPrintable;
        ContentType.Charset = "utf-8";
        Content = new MimeContent(content.OpenRead(), ContentEncoding.QuotedPrintable);
    }

    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        if (!WritesWire(options))
        {
            base.WriteTo(options, stream, contentOnly, cancellationToken);
            return;
        }
        ArgumentNullException.ThrowIfNull(stream);
        if (!contentOnly)
        {
            Headers.WriteTo(options, stream, cancellationToken);
        }
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            foreach (var chunk in _encoded.WireChunks(buffer))
            {
                cancellationToken.ThrowIfCancellationRequested();
                stream.Write(chunk.Span);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        if (!WritesWire(options))
        {
            await base.WriteToAsync(options, stream, contentOnly, cancellationToken).ConfigureAwait(false);
            return;
        }
        ArgumentNullException.ThrowIfNull(stream);
        if (!contentOnly)
        {
            await Headers.WriteToAsync(options, stream, cancellationToken).ConfigureAwait(false);
        }
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            foreach (var chunk in _encoded.WireChunks(buffer))
            {
                await stream.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // CRLF output of the content this part was made with, still quoted-printable (DKIM's Prepare keeps it so).
    private bool WritesWire(FormatOptions options) =>
        options is { NewLineFormat: NewLineFormat.Dos }
        && ContentTransferEncoding == ContentEncoding.QuotedPrintable
        && Content is { Encoding: ContentEncoding.QuotedPrintable };
}
