namespace Newsletter.Papers;

/// <summary>
/// The link a click-tracking or link-protection redirect wraps: the real URL percent-encoded in a query parameter
/// (Outlook Safe Links <c>?url=</c>, Google <c>?q=</c>, most click trackers), in the path of Amazon SES's awstrack.me,
/// or in Proofpoint URL Defense's own encoding. Trackers that keep only an id (Mailchimp's list-manage.com,
/// SendGrid's <c>?upn=</c>) cannot be unwrapped without following them, which the parser never does.
/// </summary>
public static class TrackingLinks
{
    // A Safe Link around a tracker around the link is two levels; more is not a real mail.
    private const int MaxDepth = 3;

    /// <summary>The innermost http(s) URL <paramref name="url"/> redirects to, or <paramref name="url"/> itself.</summary>
    public static string Unwrap(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        for (var depth = 0; depth < MaxDepth && Inner(url) is { } inner; depth++)
        {
            url = inner;
        }

        return url;
    }

    private static string? Inner(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return null;
        }

        // Taken from the text as written: Uri would unescape some of what the inner URL needs escaped.
        var query = url.IndexOf('?', StringComparison.Ordinal) is >= 0 and var q ? url[(q + 1)..].Split('#')[0] : "";
        if (uri.Host.EndsWith(".awstrack.me", StringComparison.OrdinalIgnoreCase))
        {
            return AwsTracked(url);
        }

        if (uri.Host.Equals("urldefense.proofpoint.com", StringComparison.OrdinalIgnoreCase))
        {
            return Parameter(query, "u") is { } encoded ? HttpUrl(Unescape(encoded.Replace('-', '%').Replace('_', '/'))) : null;
        }

        if (uri.Host.Equals("urldefense.com", StringComparison.OrdinalIgnoreCase))
        {
            return ProofpointV3(url);
        }

        foreach (var pair in query.Split('&'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && HttpUrl(Unescape(pair[(eq + 1)..])) is { } inner)
            {
                return inner;
            }
        }

        return null;
    }

    // https://abc.r.us-east-1.awstrack.me/L0/https:%2F%2Farxiv.org%2Fabs%2F2503.01234/1/0100.../XyZ=394
    private static string? AwsTracked(string url)
    {
        var start = url.IndexOf("/L0/", StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        var encoded = url[(start + 4)..];
        var end = encoded.IndexOf('/', StringComparison.Ordinal);
        return HttpUrl(Unescape(end < 0 ? encoded : encoded[..end]));
    }

    // https://urldefense.com/v3/__https://arxiv.org/abs/2503.01234__;!!Abc!def$ ; a '*' stands for characters listed
    // after the ';', which is not worth decoding: such a link stays wrapped.
    private static string? ProofpointV3(string url)
    {
        var start = url.IndexOf("/v3/__", StringComparison.Ordinal);
        var end = start < 0 ? -1 : url.IndexOf("__;", start + 6, StringComparison.Ordinal);
        if (end < 0)
        {
            return null;
        }

        var inner = url[(start + 6)..end];
        return inner.Contains('*', StringComparison.Ordinal) ? null : HttpUrl(inner);
    }

    private static string? Parameter(string query, string name)
    {
        foreach (var pair in query.Split('&'))
        {
            if (pair.StartsWith(name + "=", StringComparison.Ordinal))
            {
                return pair[(name.Length + 1)..];
            }
        }

        return null;
    }

    private static string Unescape(string value)
    {
        try
        {
            return Uri.UnescapeDataString(value);
        }
        catch (UriFormatException)
        {
            return value;
        }
    }

    private static string? HttpUrl(string candidate) =>
        (candidate.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || candidate.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        && !candidate.Any(char.IsWhiteSpace)
        && Uri.TryCreate(candidate, UriKind.Absolute, out var uri)
        && !string.IsNullOrEmpty(uri.Host)
            ? candidate
            : null;
}
