using System.Globalization;

namespace Newsletter.Benchmarks.Support;

/// <summary>
/// CPU time used by the servers a scenario talks to (PostgreSQL's, Dovecot's processes), from /proc. Wall-clock rates on
/// a shared 2-core machine swing by ±15% between runs; the CPU each side spends per message moves far less, so it shows
/// whether a change made the work smaller. Processes that start and exit between two snapshots are not counted.
/// </summary>
public static class ServerCpu
{
    public static Dictionary<string, TimeSpan> Snapshot(params string[] commands)
    {
        var totals = commands.ToDictionary(c => c, _ => TimeSpan.Zero, StringComparer.Ordinal);
        if (!Directory.Exists("/proc"))
        {
            return totals;
        }
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _))
            {
                continue;
            }
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue; // Exited while we looked.
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }
            // pid (comm) state ppid ... field 14 utime, 15 stime, in clock ticks; comm may contain spaces and parentheses.
            var open = stat.IndexOf('(', StringComparison.Ordinal);
            var close = stat.LastIndexOf(')');
            if (open < 0 || close < open)
            {
                continue;
            }
            var command = stat[(open + 1)..close];
            if (!totals.ContainsKey(command))
            {
                continue;
            }
            var fields = stat[(close + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            totals[command] += TimeSpan.FromSeconds(ticks / (double)TicksPerSecond);
        }
        return totals;
    }

    public static Dictionary<string, TimeSpan> Since(Dictionary<string, TimeSpan> before) =>
        Snapshot([.. before.Keys]).ToDictionary(p => p.Key, p => p.Value - before[p.Key], StringComparer.Ordinal);

    // USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
    private const int TicksPerSecond = 100;
}
