using System.Text;
using Microsoft.AspNetCore.Mvc;
using MimeKit;
using Newsletter.Inbox;

namespace Newsletter.Admin.Pages;

/// <summary>A stored inbound message, shown as text only: headers and the text part, all HTML-encoded by Razor.</summary>
public sealed class QuarantinedMessageModel(AdminQueries queries, MessageIngestor ingestor) : AdminPageModel
{
    private const int MaxTextChars = 200_000;

    public InboundRow Message { get; private set; } = null!;
    public string Headers { get; private set; } = "";
    public string Text { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        if (await queries.GetInboundAsync(id, ct) is not { } stored)
        {
            return NotFound();
        }
        Message = stored.Row;
        try
        {
            using var stream = new MemoryStream(stored.Raw, writable: false);
            var message = await MimeMessage.LoadAsync(stream, ct);
            var headers = new StringBuilder();
            foreach (var header in message.Headers)
            {
                headers.Append(header.Field).Append(": ").AppendLine(header.Value);
            }
            Headers = headers.ToString();
            var text = message.TextBody ?? (message.HtmlBody is { } html ? string.Join("\n", HtmlText.ToLines(html).Select(l => l.Text)) : "(no text part)");
            Text = text.Length <= MaxTextChars ? text : text[..MaxTextChars] + "\n…";
        }
        catch (FormatException ex)
        {
            Text = $"(not a readable email: {ex.Message})";
            Headers = Encoding.UTF8.GetString(stored.Raw, 0, Math.Min(stored.Raw.Length, 8_000));
        }
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(long id, CancellationToken ct)
    {
        var outcome = await ingestor.ReingestAsync(id, ct);
        Flash = outcome is null
            ? $"Message {id} is not quarantined any more."
            : $"Message {id}: {outcome.Status.ToString().ToLowerInvariant()}" + (outcome.IssueId is { } issue ? $", issue {issue}" : "") + (outcome.Reason is { } r ? $" ({r})" : "");
        return outcome?.IssueId is { } created ? Redirect($"/admin/issues/{created}") : Redirect($"/admin/quarantine/{id}");
    }
}
