using System.Net.Sockets;

namespace Newsletter.Mail;

/// <summary>
/// The SMTP socket as a stream that sends what was written when it is flushed or before it reads, so a digest goes out
/// in one send, not MailKit's 4 KB pieces; timeouts surface as IOException, a broken connection for the batch.
/// </summary>
internal sealed class SmtpSocketStream(Socket socket) : Stream
{
    /// <summary>Past this much unsent data the stream sends without waiting for a flush.</summary>
    private const int MaxPending = 256 * 1024;

    private readonly Socket _socket = socket;
    private byte[] _pending = new byte[16 * 1024];
    private int _pendingLength;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override bool CanTimeout => true;

    public override int ReadTimeout { get; set; } = Timeout.Infinite;

    public override int WriteTimeout { get; set; } = Timeout.Infinite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Append(buffer);
        if (_pendingLength >= MaxPending)
        {
            Flush();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Append(buffer.Span);
        if (_pendingLength >= MaxPending)
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override void Flush()
    {
        var sent = 0;
        _socket.SendTimeout = WriteTimeout == Timeout.Infinite ? 0 : WriteTimeout;
        try
        {
            while (sent < _pendingLength)
            {
                sent += _socket.Send(_pending, sent, _pendingLength - sent, SocketFlags.None);
            }
        }
        catch (SocketException ex)
        {
            throw new IOException($"Sending to the SMTP server failed: {ex.Message}", ex);
        }
        finally
        {
            _pendingLength = 0;
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_pendingLength == 0)
        {
            return;
        }

        try
        {
            using var timeout = Deadline(WriteTimeout, cancellationToken);
            var sent = 0;
            while (sent < _pendingLength)
            {
                sent += await _socket.SendAsync(_pending.AsMemory(sent, _pendingLength - sent), SocketFlags.None, timeout?.Token ?? cancellationToken)
                    .ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"Sending to the SMTP server timed out after {WriteTimeout} ms.", ex);
        }
        catch (SocketException ex)
        {
            throw new IOException($"Sending to the SMTP server failed: {ex.Message}", ex);
        }
        finally
        {
            _pendingLength = 0;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // A reply is only ever awaited for what was written: send it first.
        Flush();
        _socket.ReceiveTimeout = ReadTimeout == Timeout.Infinite ? 0 : ReadTimeout;
        try
        {
            return _socket.Receive(buffer, SocketFlags.None);
        }
        catch (SocketException ex)
        {
            throw new IOException($"Reading from the SMTP server failed: {ex.Message}", ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var timeout = Deadline(ReadTimeout, cancellationToken);
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout?.Token ?? cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"The SMTP server did not answer within {ReadTimeout} ms.", ex);
        }
        catch (SocketException ex)
        {
            throw new IOException($"Reading from the SMTP server failed: {ex.Message}", ex);
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _socket.Dispose();
        }
        base.Dispose(disposing);
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_pendingLength + data.Length > _pending.Length)
        {
            Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _pendingLength + data.Length));
        }
        data.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += data.Length;
    }

    private static CancellationTokenSource? Deadline(int milliseconds, CancellationToken cancellationToken)
    {
        if (milliseconds == Timeout.Infinite)
        {
            return null;
        }
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(milliseconds);
        return source;
    }
}
