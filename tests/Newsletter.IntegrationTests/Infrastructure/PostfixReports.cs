using System.Text;

namespace Newsletter.IntegrationTests.Infrastructure;

/// <summary>The reports the private Postfix (deploy/scripts/start-postfix-bounce.sh) wrote into its Maildir, as it wrote them.</summary>
public static class PostfixReports
{
    private static readonly string[] Folders = ["new", "cur"];

    /// <summary>The bytes of the report about mail to <paramref name="recipient"/>, once Postfix has delivered it.</summary>
    public static async Task<byte[]> WaitForAsync(string recipient, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var maildir = TestEnvironment.PostfixReportsMaildir;
        var deadline = DateTime.UtcNow + timeout;
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (true)
        {
            foreach (var folder in Folders.Select(f => Path.Combine(maildir, f)).Where(Directory.Exists))
            {
                foreach (var file in Directory.EnumerateFiles(folder))
                {
                    var bytes = await File.ReadAllBytesAsync(file, cancellationToken);
                    if (Encoding.ASCII.GetString(bytes).Contains(recipient, StringComparison.OrdinalIgnoreCase))
                    {
                        return bytes;
                    }
                }
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Postfix wrote no report about {recipient} into {maildir} within {timeout.TotalSeconds:N0} s.");
            }
            await tick.WaitForNextTickAsync(cancellationToken);
        }
    }
}
