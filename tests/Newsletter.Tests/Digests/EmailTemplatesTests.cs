using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Newsletter.Digests;
using Newsletter.Web;
using RazorLight;
using Xunit;
using Newsletter.Mail;
using Newsletter.Subscribers;

namespace Newsletter.Tests.Digests;

/// <summary>
/// EmailTemplates runs a page and its layout itself instead of through RazorLight's renderer (fewer copies per digest):
/// what a subscriber receives must be exactly what RazorLight would have produced from the same templates.
/// </summary>
public sealed class EmailTemplatesTests(RendererFixture fixture) : IClassFixture<RendererFixture>
{
    private static readonly RazorLightEngine RazorLightItself = new RazorLightEngineBuilder()
        .UseProject(new CssInliningRazorProject(new TemplateOptions().ResolvedRoot,
            File.ReadAllText(Path.Combine(new TemplateOptions().ResolvedRoot, "Shared", "email.css")), NullLogger.Instance))
        .SetOperatingAssembly(typeof(EmailTemplates).Assembly)
        .UseMemoryCachingProvider()
        .Build();

    [Fact]
    public async Task RenderAsync_DigestWithLayout_SameAsRazorLightsOwnRenderer()
    {
        var papers = DigestSamples.SamplePapers().Take(5).ToList();
        var view = new DigestView(DigestSamples.Model(papers), papers.Count);

        var ours = await fixture.Templates.RenderAsync(DigestRenderer.HtmlKey, view);
        var theirs = await RazorLightItself.CompileRenderAsync(DigestRenderer.HtmlKey, view);

        Assert.Equal(theirs, ours);
        // The layout ran around the page: its document frame and the page's own content are both there.
        Assert.StartsWith("<!DOCTYPE html>", ours, StringComparison.Ordinal);
        Assert.Contains(DigestSamples.Links.Manage, ours, StringComparison.Ordinal);
        Assert.False(fixture.Templates.RendersThroughPipeline(DigestRenderer.HtmlKey));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RenderAsync_ConfirmationWithLayoutTwice_SameAsRazorLightsOwnRenderer(bool alreadySubscribed)
    {
        var view = new ConfirmationMailView("ada@example.org", "https://papers.lab.example.org/confirm/tok<&>", alreadySubscribed, 48);

        // Twice: the second render reuses the first one's buffer, which must not leak into it.
        var first = await fixture.Templates.RenderAsync(ConfirmationMailRenderer.HtmlKey, view);
        var second = await fixture.Templates.RenderAsync(ConfirmationMailRenderer.HtmlKey, view);
        var theirs = await RazorLightItself.CompileRenderAsync(ConfirmationMailRenderer.HtmlKey, view);

        Assert.Equal(theirs, first);
        Assert.Equal(theirs, second);
        Assert.False(fixture.Templates.RendersThroughPipeline(ConfirmationMailRenderer.HtmlKey));
    }

    [Fact]
    public async Task Load_TemplatesCompiledByAnotherInstance_RendersTheSameWithoutCompiling()
    {
        // As a worker gets them from its compiler child: every template, as assemblies.
        var compiled = await fixture.Templates.CompileAllAsync();
        var loaded = new EmailTemplates(Options.Create(new TemplateOptions()), NullLogger<EmailTemplates>.Instance);
        loaded.Load(compiled);
        var papers = DigestSamples.SamplePapers().Take(5).ToList();
        var digest = new DigestView(DigestSamples.Model(papers), papers.Count);
        var confirmation = new ConfirmationMailView("ada@example.org", "https://papers.lab.example.org/confirm/tok<&>", false, 48);

        Assert.Equal(await fixture.Templates.RenderAsync(DigestRenderer.HtmlKey, digest), await loaded.RenderAsync(DigestRenderer.HtmlKey, digest));
        Assert.Equal(await fixture.Templates.RenderAsync(DigestRenderer.TextKey, digest), await loaded.RenderAsync(DigestRenderer.TextKey, digest));
        Assert.Equal(await fixture.Templates.RenderAsync(ConfirmationMailRenderer.HtmlKey, confirmation),
            await loaded.RenderAsync(ConfirmationMailRenderer.HtmlKey, confirmation));
        Assert.Equal(0, loaded.CompiledHere);
        // Every template in the folder, the layout among them, each once.
        Assert.Equal(Directory.GetFiles(new TemplateOptions().ResolvedRoot, "*.cshtml", SearchOption.AllDirectories).Length, compiled.Count);
        Assert.Contains(compiled, t => t.Key == DigestRenderer.LayoutKey);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_OutputInOneOrManyChunks_ReaderSeesAllOfItInOrder(bool outgrown)
    {
        // A builder that outgrows its capacity links new chunks; the reader must still get the whole text as one span.
        var output = new System.Text.StringBuilder(outgrown ? 4 : 1024);
        output.Append("<p>first");
        for (var i = 1; i < 40; i++)
        {
            output.Append(" and ").Append(i);
        }
        output.Append("</p>");
        Assert.Equal(outgrown, CountChunks(output) > 1);

        var read = EmailTemplates.Read(output, static text => text.ToString());

        Assert.Equal(output.ToString(), read);
        Assert.StartsWith("<p>first and 1 and 2", read, StringComparison.Ordinal);
        Assert.EndsWith("and 39</p>", read, StringComparison.Ordinal);
    }

    private static int CountChunks(System.Text.StringBuilder builder)
    {
        var count = 0;
        foreach (var _ in builder.GetChunks())
        {
            count++;
        }
        return count;
    }
}
