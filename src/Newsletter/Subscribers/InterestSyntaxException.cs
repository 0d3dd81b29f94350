namespace Newsletter.Subscribers;

/// <summary>An interests line that cannot be read. The message says what is wrong and where, for the subscriber.</summary>
public sealed class InterestSyntaxException : FormatException
{
    public InterestSyntaxException()
    {
    }

    public InterestSyntaxException(string message)
        : base(message)
    {
    }

    public InterestSyntaxException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public InterestSyntaxException(string message, int position)
        : base(message)
    {
        Position = position;
    }

    /// <summary>0-based index into the typed line where the problem is (the message counts characters from 1).</summary>
    public int Position { get; }
}
