using Newsletter.Subscribers;

namespace Newsletter.Tests.Subscribers;

public sealed class SubscriberCommandsTests
{
    [Theory]
    [InlineData("list", "--status", "active,paused")]
    [InlineData("list", "--status", "1")]
    [InlineData("export", "--status", "actve")]
    [InlineData("add", "reader@lab.example.org", "--format", "html,text")]
    [InlineData("add", "reader@lab.example.org", "--frequency", "daily,weekly")]
    [InlineData("add", "reader@lab.example.org", "--weekday", "monday,friday")]
    [InlineData("add", "reader@lab.example.org", "--weekday", "9")]
    public void Parse_AChoiceThatNamesNoSingleMember_RefusedNamingTheWord(params string[] args)
    {
        // System.CommandLine's enum parsing ORs a list into another member and takes numbers: "active,paused" listed the unsubscribed.
        var parsed = SubscriberCommands.Build().Parse(["subscribers", .. args]);

        var error = Assert.Single(parsed.Errors);
        Assert.Contains(args[^1], error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("list", "--status", "Paused")]
    [InlineData("add", "reader@lab.example.org", "--format", "text", "--frequency", "weekly", "--weekday", "Friday")]
    public void Parse_OneMemberByName_Accepted(params string[] args)
    {
        Assert.Empty(SubscriberCommands.Build().Parse(["subscribers", .. args]).Errors);
    }
}
