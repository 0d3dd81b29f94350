using Newsletter.Digests;
using Xunit;
using Newsletter.Mail;

namespace Newsletter.Tests.Digests;

public sealed class TemplateCssInlinerTests
{
    [Fact]
    public void Inline_RazorCodeWithOperators_CodeKeptVerbatimAndElementsStyled()
    {
        const string source = """
            @model Newsletter.Digests.DigestView
            @{ Layout = "Shared/_EmailLayout"; var x = 1 < 2 && true; }
            <p class="lead">Hi @Model.RecipientEmail, @(1 < 2 ? "a&b" : "c")</p>
            @if (Model.Papers.Count > 0 && x)
            {
            <p>@Model.Papers.Count papers, write to me@example.org</p>
            }
            else
            {
            <p>none</p>
            }
            @* a <comment> & more *@
            """;

        var inlined = TemplateCssInliner.Inline(source, ".lead { color: red; } p { margin: 0; }", out _);

        Assert.StartsWith("@model Newsletter.Digests.DigestView\n@{ Layout = \"Shared/_EmailLayout\"; var x = 1 < 2 && true; }\n", inlined, StringComparison.Ordinal);
        Assert.Contains("@(1 < 2 ? \"a&b\" : \"c\")", inlined, StringComparison.Ordinal);
        Assert.Contains("@if (Model.Papers.Count > 0 && x)\n{", inlined, StringComparison.Ordinal);
        Assert.Contains("@* a <comment> & more *@", inlined, StringComparison.Ordinal);
        Assert.Contains("me@example.org", inlined, StringComparison.Ordinal);
        var lead = inlined[inlined.IndexOf("<p style=\"", StringComparison.Ordinal)..];
        lead = lead[..lead.IndexOf('>', StringComparison.Ordinal)];
        Assert.Contains("color: red", lead, StringComparison.Ordinal);
        Assert.Contains("margin: 0", lead, StringComparison.Ordinal);
        Assert.Contains("\">Hi @Model.RecipientEmail, @(1 < 2", inlined, StringComparison.Ordinal);
    }

    [Fact]
    public void Inline_CodeBetweenTableRows_ThrowsAtStartUp()
    {
        const string source = """
            <table>
            @foreach (var p in Model.Papers)
            {
            <tr><td>@p.Title</td></tr>
            }
            </table>
            """;

        Assert.Throws<InvalidOperationException>(() => TemplateCssInliner.Inline(source, "td { color: red; }", out _));
    }
}
