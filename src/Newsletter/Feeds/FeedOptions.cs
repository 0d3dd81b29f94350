using System.ComponentModel.DataAnnotations;

namespace Newsletter.Feeds;

/// <summary><c>Newsletter:Feeds</c>: what the Atom feeds hold and how often one client may ask for them.</summary>
public sealed class FeedOptions
{
    public const string Section = "Newsletter:Feeds";

    /// <summary>The feed's title, and the name of its author (Atom requires one).</summary>
    [Required(AllowEmptyStrings = false)]
    [StringLength(200)]
    public string Title { get; set; } = "Trending papers digest";

    /// <summary>A personal feed holds the papers of the reader's digests of this many days.</summary>
    [Range(1, 365)]
    public int Days { get; set; } = 30;

    /// <summary>At most this many entries, newest first: the bound on a feed's size (an abstract is about 1.5 KB).</summary>
    [Range(1, 5000)]
    public int MaxEntries { get; set; } = 300;

    /// <summary>Feed requests accepted per client IP address and minute; more get 429. Feed readers poll hourly.</summary>
    [Range(1, 100_000)]
    public int RequestsPerMinute { get; set; } = 30;
}
