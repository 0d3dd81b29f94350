using Microsoft.AspNetCore.Mvc;
using Newsletter.Subscribers;

namespace Newsletter.Admin.Pages;

public sealed class SubscriberModel(SubscriberStore store) : AdminPageModel
{
    public Subscriber Subscriber { get; private set; } = null!;
    public string? Interests { get; private set; }
    public string? Error { get; private set; }

    public async Task<IActionResult> OnGetAsync(long id, CancellationToken ct)
    {
        Subscriber = (await store.GetAsync(id, ct))!;
        return Subscriber is null ? NotFound() : Page();
    }

    public async Task<IActionResult> OnPostSaveAsync(long id, string? interests, SubscriberStatus status, DigestFormat format, CancellationToken ct)
    {
        try
        {
            if (await store.UpdateAsync(id, interests, status, format, ct) is null)
            {
                return NotFound();
            }
            Flash = "Saved.";
            return Redirect($"/admin/subscribers/{id}");
        }
        catch (InterestSyntaxException ex)
        {
            Error = $"Interests: {ex.Message}";
            Interests = interests;
            return await OnGetAsync(id, ct);
        }
    }

    public async Task<IActionResult> OnPostDeleteAsync(long id, bool confirm, CancellationToken ct)
    {
        var subscriber = await store.GetAsync(id, ct);
        if (subscriber is null)
        {
            return NotFound();
        }
        if (!confirm)
        {
            Error = "Tick the box to confirm.";
            return await OnGetAsync(id, ct);
        }
        await store.DeleteAsync(id, ct);
        Flash = $"{subscriber.Email} and all their data were deleted.";
        return Redirect("/admin/subscribers");
    }
}
