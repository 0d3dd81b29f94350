namespace Newsletter.Digests;
public sealed class SendBatchJob { public const string Queue = "digests"; public Task RunAsync(long a, int b, long c, long d, CancellationToken ct) => Task.CompletedTask; }
