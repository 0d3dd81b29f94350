using MimeKit;
namespace Newsletter.Inbox;
// Placeholder until the parser branch lands.
public sealed class TrendingEmailParser
{
    public ParsedListing Parse(MimeMessage message) => new(message.MessageId, null, message.Subject, null, []);
}
