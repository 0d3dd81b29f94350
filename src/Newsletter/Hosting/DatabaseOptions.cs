namespace Newsletter.Hosting;

/// <summary>Names the connection string; it is required everywhere except where an embedded server supplies it.</summary>
public static class ConnectionStrings
{
    public const string Key = "ConnectionStrings:Newsletter";
}
