namespace Newsletter.Inbox;
// Placeholder until the parser branch lands.
public static class ParsedListingJson
{
    public static string Serialize(ParsedListing listing) => System.Text.Json.JsonSerializer.Serialize(listing);
}
