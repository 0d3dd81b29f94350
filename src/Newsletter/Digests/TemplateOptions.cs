namespace Newsletter.Digests;

/// <summary>Where the Razor templates live (section <c>Newsletter:Templates</c>).</summary>
public sealed class TemplateOptions
{
    public const string Section = "Newsletter:Templates";

    /// <summary>Folder with Digest/, Shared/ ...; default: the templates/ folder next to the application.</summary>
    public string? Root { get; set; }

    internal string ResolvedRoot => string.IsNullOrWhiteSpace(Root)
        ? Path.Combine(AppContext.BaseDirectory, "templates")
        : Path.GetFullPath(Root);
}
