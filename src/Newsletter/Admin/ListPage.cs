namespace Newsletter.Admin;

/// <summary>
/// Where an admin list stands: <see cref="Shown"/> rows from <see cref="Offset"/> on, pages of <see cref="Size"/>. The page
/// reads one row more than it shows, so it knows whether another page follows without counting every match.
/// </summary>
public sealed record ListPage(int Offset, int Size, int Shown, bool HasNext)
{
    public bool HasPrevious => Offset > 0;

    /// <summary>Why no rows are listed: the request's offset was no number.</summary>
    public string? Error { get; init; }

    /// <summary>An empty page saying why, when binding could not read the request's offset as a number; else null.</summary>
    public static ListPage? RefuseUnreadOffset(Microsoft.AspNetCore.Mvc.ModelBinding.ModelStateDictionary modelState, int size) =>
        Web.UnreadFields.DescribeNumber(modelState, "Offset", "a row number") is { } error
            ? new ListPage(0, size, 0, HasNext: false) { Error = error }
            : null;

    /// <summary>A page of <paramref name="size"/> rows from <paramref name="offset"/> (0 when missing or negative); <paramref name="read"/> gets limit and offset.</summary>
    public static async Task<(IReadOnlyList<T> Rows, ListPage Page)> ReadAsync<T>(int? offset, int size,
        Func<int, int, Task<IReadOnlyList<T>>> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        var from = Math.Max(0, offset ?? 0);
        var rows = await read(size + 1, from);
        return rows.Count > size
            ? ([.. rows.Take(size)], new ListPage(from, size, size, HasNext: true))
            : (rows, new ListPage(from, size, rows.Count, HasNext: false));
    }

    /// <summary>The address of the page starting at <paramref name="offset"/>: this request's with its search kept, its form handler dropped.</summary>
    public static string LinkTo(HttpRequest request, int offset)
    {
        ArgumentNullException.ThrowIfNull(request);
        var kept = request.Query.Where(q => q.Key is not ("offset" or "handler"))
            .SelectMany(q => q.Value.Select(value => KeyValuePair.Create(q.Key, value)))
            .Append(KeyValuePair.Create("offset", (string?)offset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return request.PathBase + request.Path + QueryString.Create(kept);
    }
}
