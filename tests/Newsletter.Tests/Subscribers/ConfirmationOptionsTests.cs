using System.ComponentModel.DataAnnotations;
using Newsletter.Subscribers;

namespace Newsletter.Tests.Subscribers;

public sealed class ConfirmationOptionsTests
{
    [Fact]
    public void UnconfirmedRetention_ShorterThanTheLinkLifetime_RefusedNamingBoth()
    {
        var options = new ConfirmationOptions { ConfirmationLinkLifetime = TimeSpan.FromDays(7), UnconfirmedRetention = TimeSpan.FromDays(2) };
        var errors = new List<ValidationResult>();

        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true));
        var error = Assert.Single(errors);
        Assert.Contains("ConfirmationLinkLifetime", error.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal([nameof(ConfirmationOptions.UnconfirmedRetention)], error.MemberNames);
    }

    [Fact]
    public void Defaults_AreValid()
    {
        var options = new ConfirmationOptions();

        Assert.True(Validator.TryValidateObject(options, new ValidationContext(options), null, validateAllProperties: true));
    }
}
