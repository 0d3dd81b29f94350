using System.ComponentModel.DataAnnotations;

namespace Newsletter.Mail;

/// <summary>Where the Razor templates live (section <c>Newsletter:Templates</c>).</summary>
public sealed class TemplateOptions
{
    public const string Section = "Newsletter:Templates";

    /// <summary>Folder with Digest/, Shared/ ...; default: the templates/ folder next to the application.</summary>
    public string? Root { get; set; }

    public const int DefaultPaperBlockCacheMegabytes = 8;

    /// <summary>
    /// Memory for rendered paper blocks (one per paper and set of matched terms, a few KB each), shared by every digest
    /// of an issue; the least recently used go first when it is full.
    /// </summary>
    [Range(1, 4096)]
    public int PaperBlockCacheMegabytes { get; set; } = DefaultPaperBlockCacheMegabytes;

    internal string ResolvedRoot => string.IsNullOrWhiteSpace(Root)
        ? Path.Combine(AppContext.BaseDirectory, "templates")
        : Path.GetFullPath(Root);
}
