namespace Newsletter.IntegrationTests.Support;

/// <summary>
/// Cookies kept by hand: HttpClient's container never sends a Secure cookie over plain http (the application behind
/// its proxy), and a test that copies a cookie to another client needs to see it. Use with a client without cookies.
/// </summary>
internal sealed class ManualCookies
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);

    /// <summary>The Set-Cookie headers of the last response, as sent.</summary>
    public IReadOnlyList<string> SetCookieHeaders { get; private set; } = [];

    /// <summary>"name=value" of a cookie held now, or null.</summary>
    public string? Get(string name) => values.TryGetValue(name, out var value) ? $"{name}={value}" : null;

    public void Remove(string name) => values.Remove(name);

    public async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path,
        IDictionary<string, string>? form = null, string? bearer = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (form is not null)
        {
            request.Content = new FormUrlEncodedContent(form);
        }
        if (values.Count > 0)
        {
            request.Headers.Add("Cookie", string.Join("; ", values.Select(v => $"{v.Key}={v.Value}")));
        }
        if (bearer is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }
        var response = await client.SendAsync(request, Ct);
        SetCookieHeaders = response.Headers.TryGetValues("Set-Cookie", out var headers) ? [.. headers] : [];
        foreach (var header in SetCookieHeaders)
        {
            var pair = header.Split(';', 2)[0];
            var name = pair.Split('=', 2)[0];
            var value = pair.Length > name.Length ? pair[(name.Length + 1)..] : "";
            var expired = header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase);
            if (value.Length == 0 || expired)
            {
                values.Remove(name);
            }
            else
            {
                values[name] = value;
            }
        }
        return response;
    }
}
