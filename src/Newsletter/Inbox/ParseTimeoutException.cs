namespace Newsletter.Inbox;

/// <summary>A message took longer to parse than its budget (<c>Newsletter:Inbox:ParseTimeout</c>).</summary>
public sealed class ParseTimeoutException : TimeoutException
{
    public ParseTimeoutException()
    {
    }

    public ParseTimeoutException(string message)
        : base(message)
    {
    }

    public ParseTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ParseTimeoutException(TimeSpan budget)
        : base($"The message was not parsed within its budget of {budget}.")
    {
        Budget = budget;
    }

    /// <summary>The budget that was spent.</summary>
    public TimeSpan Budget { get; }
}
