using System.Text;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Newsletter.Web;

/// <summary>
/// The forms of the public pages. Each is a few lines of text, so its body may be at most <see cref="MaxBodyBytes"/>
/// (the server's own limit is 30 MB, which anyone could otherwise make a page read). And ASP.NET Core's form reader
/// refuses a whole urlencoded form when a value holds <c>%00</c> (a pasted NUL): the page saw no form, and the reader
/// got an error page that named nothing. Such a form is read again with the NUL kept, so the page shows the form as
/// typed and names the field, as it does for any character it cannot take.
/// </summary>
internal static class PublicPageForms
{
    /// <summary>The most a public page's form may send: a line at its 2,000-unit storage bound, percent-encoded, is at most 18 KB.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public static WebApplication UsePublicPageForms(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (!IsPublicPagePost(context))
            {
                return next(context);
            }
            // Said at once when the request gives its length (not again to the status page that says it); otherwise
            // reading stops at the limit.
            if (context.Request.ContentLength > MaxBodyBytes && context.Features.Get<IStatusCodeReExecuteFeature>() is null)
            {
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                return Task.CompletedTask;
            }
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            {
                size.MaxRequestBodySize = MaxBodyBytes;
            }
            if (context.Request.ContentType is { } type && type.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
            {
                // Kept so the body can be read a second time; within the limit above, and spooled to disk past 30 KB.
                context.Request.EnableBuffering();
                context.Features.Set<IFormFeature>(new NulKeepingForm(context, new FormFeature(context.Request,
                    context.RequestServices.GetRequiredService<IOptions<FormOptions>>().Value)));
            }
            return next(context);
        });
        return app;
    }

    /// <summary>A POST to a public page, whatever it says it sends (a multipart body is read for the antiforgery token too).</summary>
    private static bool IsPublicPagePost(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method)
        && context.GetEndpoint()?.Metadata.GetMetadata<CompiledPageActionDescriptor>() is { } page
        && page.RelativePath.StartsWith("/Web/", StringComparison.Ordinal);

    /// <summary>The usual form reading, with a second reading that keeps U+0000 when the usual one refuses it.</summary>
    private sealed class NulKeepingForm(HttpContext context, FormFeature usual) : IFormFeature
    {
        private Task<IFormCollection>? _read;

        public bool HasFormContentType => usual.HasFormContentType;

        public IFormCollection? Form
        {
            get => usual.Form;
            set
            {
                _read = null;
                usual.Form = value;
            }
        }

        public IFormCollection ReadForm() => ReadFormAsync(CancellationToken.None).GetAwaiter().GetResult();

        public Task<IFormCollection> ReadFormAsync(CancellationToken cancellationToken) => _read ??= ReadAsync(cancellationToken);

        private async Task<IFormCollection> ReadAsync(CancellationToken ct)
        {
            try
            {
                return await usual.ReadFormAsync(ct);
            }
            catch (InvalidDataException ex) when (ex.InnerException is InvalidOperationException)
            {
                // The usual reader's one refusal with an inner exception is a value that decodes to U+0000; a limit passed has none.
                var limits = context.RequestServices.GetRequiredService<IOptions<FormOptions>>().Value;
                context.Request.Body.Position = 0;
                using var reader = new FormReader(context.Request.Body, Encoding.UTF8)
                {
                    ValueCountLimit = limits.ValueCountLimit,
                    KeyLengthLimit = limits.KeyLengthLimit,
                    ValueLengthLimit = limits.ValueLengthLimit,
                };
                var form = new FormCollection(await reader.ReadFormAsync(ct));
                usual.Form = form;
                return form;
            }
        }
    }
}
