using System.Buffers;
using MimeKit;
using MimeKit.Text;

namespace Newsletter.Digests;

/// <summary>
/// A text part whose content is already quoted-printable (<see cref="EncodedPart"/>): MimeKit copies it instead of
/// encoding it, and on the wire (CRLF line ends) it is written in one piece with its line ends converted in one pass,
/// instead of through MimeKit's line-end filter and its buffers for every part of every message. Other formats (a
/// pickup folder's LF files) take MimeKit's way.
/// </summary>
internal sealed class EncodedTextPart : TextPart
{
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
        var wire = _encoded.RentWire();
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            stream.Write(wire, 0, _encoded.WireLength);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(wire);
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
        var wire = _encoded.RentWire();
        try
        {
            await stream.WriteAsync(wire.AsMemory(0, _encoded.WireLength), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(wire);
        }
    }

    // CRLF output of the content this part was made with, still quoted-printable (DKIM's Prepare keeps it so).
    private bool WritesWire(FormatOptions options) =>
        options is { NewLineFormat: NewLineFormat.Dos }
        && ContentTransferEncoding == ContentEncoding.QuotedPrintable
        && Content is { Encoding: ContentEncoding.QuotedPrintable };
}
