using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Newsletter.Bounces;
using Newsletter.Subscribers;
using Newsletter.Web;

namespace Newsletter.Admin.Pages;

public sealed class SubscriberModel(SubscriberStore store, BounceStore bounces, ConfirmationMails confirmations) : AdminPageModel
{
    /// <summary>How many of the latest confirmation mails the page lists.</summary>
    public const int ConfirmationMailsShown = 10;

    /// <summary>The latest confirmation mails, newest first: a failed one says why no link reached the reader.</summary>
    public IReadOnlyList<ConfirmationMailRow> ConfirmationMails { get; private set; } = [];

    public Subscriber Subscriber { get; private set; } = null!;
    public string? Interests { get; private set; }
    public string? Error { get; private set; }

    /// <summary>Why the delete form was refused; shown under it.</summary>
    public string? DeleteError { get; private set; }
    public IReadOnlyList<BounceRow> Bounces { get; private set; } = [];
    public ListPage BouncesPaging { get; private set; } = null!;

    /// <summary>Where the page of bounces starts (the latest first).</summary>
    [BindProperty(SupportsGet = true)]
    public int? Offset { get; set; }

    public const int BouncesPageSize = 100;

    public ReaderChoices Choices { get; private set; } = ReaderChoices.Default;

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        Subscriber = (await store.GetAsync(id, ct))!;
        if (Subscriber is null)
        {
            return NotFound();
        }
        if (RefuseUnreadOffset(BouncesPageSize) is { } refused)
        {
            BouncesPaging = refused;
        }
        else
        {
            (Bounces, BouncesPaging) = await ListPage.ReadAsync(Offset, BouncesPageSize,
                (limit, offset) => bounces.ForSubscriberAsync(id, limit, offset, ct));
        }
        Choices = await store.GetChoicesAsync(id, ct);
        ConfirmationMails = await confirmations.ListAsync(id, ConfirmationMailsShown, ct);
        return Page();
    }

    /// <summary>A bounced subscriber gets digests again; the failures that stopped them no longer count.</summary>
    public async Task<IActionResult> OnPostReactivateAsync(long id, CancellationToken ct)
    {
        Flash = await bounces.ReactivateAsync(id, ct) ? "Re-activated: digests start again with the next issue." : "Only a bounced subscriber can be re-activated.";
        return Redirect($"/admin/subscribers/{id}");
    }

    public async Task<IActionResult> OnPostSaveAsync(long id, string? interests, SubscriberStatus status, DigestFormat format,
        DigestFrequency frequency, DayOfWeek weekday, string? timeZone, bool noRepeats, CancellationToken ct)
    {
        if (UnreadFields.Describe(ModelState) is { } unread)
        {
            return await ShowMistakeAsync(unread);
        }
        try
        {
            ReaderChoices.CheckTimeZone(timeZone);
            if (await store.UpdateAsync(id, interests, status, format, ct) is null)
            {
                return NotFound();
            }
            var choices = await store.GetChoicesAsync(id, ct);
            await store.UpdateChoicesAsync(id, choices with { Frequency = frequency, Weekday = weekday, TimeZone = timeZone, NoRepeats = noRepeats }, ct);
            Flash = "Saved.";
            return Redirect($"/admin/subscribers/{id}");
        }
        catch (InterestSyntaxException ex)
        {
            return await ShowMistakeAsync($"Interests: {ex.Message}");
        }
        catch (ArgumentException ex)
        {
            return await ShowMistakeAsync($"Time zone: {ex.Message}");
        }

        // The page again with the error and every field as the admin typed it; nothing was saved.
        async Task<IActionResult> ShowMistakeAsync(string error)
        {
            Error = error;
            Interests = interests;
            if (await OnGetAsync(id, ct) is not PageResult page)
            {
                return NotFound();
            }
            // What binding could not read shows as saved, the rest as typed.
            bool Unread(string field) => UnreadFields.Has(ModelState, field);
            Subscriber = Subscriber with
            {
                Status = Unread(nameof(status)) ? Subscriber.Status : status, Format = Unread(nameof(format)) ? Subscriber.Format : format,
            };
            Choices = Choices with
            {
                Frequency = Unread(nameof(frequency)) ? Choices.Frequency : frequency, Weekday = Unread(nameof(weekday)) ? Choices.Weekday : weekday,
                TimeZone = timeZone, NoRepeats = Unread(nameof(noRepeats)) ? Choices.NoRepeats : noRepeats,
            };
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return page;
        }
    }

    public async Task<IActionResult> OnPostDeleteAsync(long id, bool confirm, CancellationToken ct)
    {
        var subscriber = await store.GetAsync(id, ct);
        if (subscriber is null)
        {
            return NotFound();
        }
        // An unticked box sends nothing and a value that is not "true" binds as false: either way nothing is deleted.
        if (!confirm)
        {
            DeleteError = $"Nothing was deleted: tick the box to confirm that {subscriber.Email} and all their data are to be deleted.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return await OnGetAsync(id, ct);
        }
        await store.DeleteAsync(id, ct);
        Flash = $"{subscriber.Email} and all their data were deleted.";
        return Redirect("/admin/subscribers");
    }
}
