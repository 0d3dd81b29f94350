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

    /// <summary>People reach the site over https (then through a proxy that ends TLS, since the process itself speaks http).</summary>
    public bool IsHttps => PublicBaseUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>An https site's cookies are always Secure; a plain http site (Development) sends them as the request came.</summary>
    public CookieSecurePolicy CookieSecurePolicy => IsHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
}
