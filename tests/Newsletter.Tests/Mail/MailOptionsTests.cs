using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Newsletter.Mail;

namespace Newsletter.Tests.Mail;

public sealed class MailOptionsTests
{
    [Theory]
    [InlineData("Lab papers <digest@lab.example.org>", "digest.lab.example.org")]
    [InlineData("papers+daily@Lab.Example.org", "papers-daily.lab.example.org")]
    [InlineData("\"Quoted\" <_x.y_@mail.example>", "x-y.mail.example")]
    public void ListId_NotConfigured_DerivedFromTheFromAddress(string from, string listId)
    {
        var options = new MailOptions { From = from };

        var valid = Validator.TryValidateObject(options, new ValidationContext(options), null, validateAllProperties: true);
        var mail = new OutgoingMail(Options.Create(options), new FakeTimeProvider());

        Assert.True(valid, "a configuration without ListId is valid");
        Assert.Equal(listId, mail.ListId);
    }

    [Fact]
    public void ListId_Configured_UsedAsGiven()
    {
        var mail = new OutgoingMail(Options.Create(new MailOptions { From = "digest@lab.example.org", ListId = "papers.lab.example.org" }), new FakeTimeProvider());

        Assert.Equal("papers.lab.example.org", mail.ListId);
    }
}
