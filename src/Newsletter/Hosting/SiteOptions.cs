using System.ComponentModel.DataAnnotations;

namespace Newsletter.Hosting;

/// <summary><c>Newsletter:PublicBaseUrl</c>: where subscribers reach the site; every personal link starts with it.</summary>
public sealed class SiteOptions
{
    public const string Section = "Newsletter";

    [Required(ErrorMessage = "Newsletter:PublicBaseUrl is required, e.g. https://papers.example.org")]
    [Url(ErrorMessage = "Newsletter:PublicBaseUrl must be an absolute http(s) URL")]
    public string PublicBaseUrl { get; set; } = "";

    public string Link(string path) => PublicBaseUrl.TrimEnd('/') + "/" + path.TrimStart('/');
}
