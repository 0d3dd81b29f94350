using System.Globalization;

namespace Newsletter.Inbox;

/// <summary>A message over the configured size cap; it is refused before MimeKit parses it.</summary>
public sealed class MessageTooLargeException : Exception
{
    public MessageTooLargeException()
        : this(null, 0)
    {
    }

    public MessageTooLargeException(string message)
        : base(message)
    {
    }

    public MessageTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <param name="sizeBytes">The size when known; null when the stream could not tell and only the cap was passed.</param>
    /// <param name="maxBytes">The cap.</param>
    public MessageTooLargeException(long? sizeBytes, long maxBytes)
        : base(sizeBytes is { } size
            ? string.Format(CultureInfo.InvariantCulture, "The message is {0:N0} bytes, over the cap of {1:N0} bytes.", size, maxBytes)
            : string.Format(CultureInfo.InvariantCulture, "The message is over the cap of {0:N0} bytes.", maxBytes))
    {
        SizeBytes = sizeBytes;
        MaxBytes = maxBytes;
    }

    /// <summary>The message size in bytes, when the source could tell it.</summary>
    public long? SizeBytes { get; }

    /// <summary>The cap that was exceeded, in bytes.</summary>
    public long MaxBytes { get; }
}
