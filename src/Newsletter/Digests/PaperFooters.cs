using System.Buffers;
using System.Text.Encodings.Web;
using Newsletter.Mail;

namespace Newsletter.Digests;

/// <summary>
/// Where a footer template puts one of a paper's vote links (<see cref="PaperFooterView.MoreLink"/>,
/// <see cref="PaperFooterView.LessLink"/>): the footer is rendered once and each delivery's signed link is written here.
/// </summary>
public sealed class VoteLinkSlot : TemplateSlot
{
    internal const char MoreMarker = '\uFDD2';
    internal const char LessMarker = '\uFDD3';

    internal static readonly VoteLinkSlot More = new(MoreMarker);
    internal static readonly VoteLinkSlot Less = new(LessMarker);

    private VoteLinkSlot(char marker)
        : base(marker)
    {
    }
}

/// <summary>
/// A rendered footer template (Digest/PaperFooter.html or .text) as its text between the vote links' markers: filled
/// with one delivery's links, it is the text the template gives for those links, encoded for the wire.
/// </summary>
internal sealed class PaperFooter
{
    private readonly string[] _pieces;
    private readonly char[] _markers;
    private readonly EncodedPart? _withoutLinks;

    private PaperFooter(string[] pieces, char[] markers)
    {
        _pieces = pieces;
        _markers = markers;
        // A footer that shows no link is the same for every delivery.
        _withoutLinks = markers.Length == 0 ? EncodedPart.Encode(pieces[0]) : null;
    }

    /// <summary>Characters held, for the cache's size.</summary>
    public int Length => _pieces.Sum(p => p.Length);

    /// <summary>The template's output cut at the markers of <see cref="VoteLinkSlot"/>.</summary>
    public static PaperFooter Split(ReadOnlySpan<char> rendered)
    {
        var pieces = new List<string>(3);
        var markers = new List<char>(2);
        var rest = rendered;
        int marker;
        while ((marker = rest.IndexOfAny(VoteLinkSlot.MoreMarker, VoteLinkSlot.LessMarker)) >= 0)
        {
            pieces.Add(rest[..marker].ToString());
            markers.Add(rest[marker]);
            rest = rest[(marker + 1)..];
        }
        pieces.Add(rest.ToString());
        return new PaperFooter([.. pieces], [.. markers]);
    }

    /// <summary>
    /// The footer with <paramref name="votes"/>' links in their places, HTML-encoded by <paramref name="encoder"/> as the
    /// template would have (null for a text part); no links (a preview) leaves them empty, as an empty link renders.
    /// </summary>
    public EncodedPart Fill(VoteLinks? votes, HtmlEncoder? encoder)
    {
        if (_withoutLinks is not null)
        {
            return _withoutLinks;
        }

        var more = Encoded(votes?.More, encoder);
        var less = Encoded(votes?.Less, encoder);
        var length = Length;
        foreach (var marker in _markers)
        {
            length += marker == VoteLinkSlot.MoreMarker ? more.Length : less.Length;
        }

        var text = ArrayPool<char>.Shared.Rent(length);
        try
        {
            var at = 0;
            for (var i = 0; i < _pieces.Length; i++)
            {
                if (i > 0)
                {
                    var link = _markers[i - 1] == VoteLinkSlot.MoreMarker ? more : less;
                    link.CopyTo(text.AsSpan(at));
                    at += link.Length;
                }
                _pieces[i].CopyTo(text.AsSpan(at));
                at += _pieces[i].Length;
            }
            return EncodedPart.Encode(text.AsSpan(0, at));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(text);
        }
    }

    private static string Encoded(string? link, HtmlEncoder? encoder) =>
        link is null ? "" : encoder is null ? link : encoder.Encode(link);
}
