using System.ComponentModel.DataAnnotations;

namespace Newsletter.Hosting;

/// <summary><c>Newsletter:PublicBaseUrl</c>: where subscribers reach the site; every personal link starts with it.</summary>
public sealed class SiteOptions : IValidatableObject
{
    public const string Section = "Newsletter";

    [Required(ErrorMessage = "Newsletter:PublicBaseUrl is required, e.g. https://papers.example.org")]
    public string PublicBaseUrl { get; set; } = "";

    public string Link(string path) => PublicBaseUrl.TrimEnd('/') + "/" + path.TrimStart('/');

    /// <summary>People reach the site over https (then through a proxy that ends TLS, since the process itself speaks http).</summary>
    public bool IsHttps => PublicBaseUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary>An https site's cookies are always Secure; a plain http site (Development) sends them as the request came.</summary>
    public CookieSecurePolicy CookieSecurePolicy => IsHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PublicBaseUrl.Length == 0)
        {
            yield break;
        }

        // Every personal link and feed address is this text and a path: it must parse, and nothing may follow the path.
        // https, as List-Unsubscribe links must be (RFC 8058); plain http only for a site on this machine (the development run).
        if (!Uri.TryCreate(PublicBaseUrl, UriKind.Absolute, out var url) || !(url.Scheme == "https" || (url.Scheme == "http" && url.IsLoopback))
            || url.Host.Length == 0 || url.Query.Length > 0 || url.Fragment.Length > 0 || url.UserInfo.Length > 0
            || PublicBaseUrl.Contains('#', StringComparison.Ordinal) || PublicBaseUrl.Contains('?', StringComparison.Ordinal))
        {
            yield return new ValidationResult(
                $"Newsletter:PublicBaseUrl ({PublicBaseUrl}) must be an absolute https address (http only for localhost) with a host and no query, fragment or user name, e.g. https://papers.example.org",
                [nameof(PublicBaseUrl)]);
        }
    }
}
