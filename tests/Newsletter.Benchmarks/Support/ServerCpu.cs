using System.Globalization;

namespace Newsletter.Benchmarks.Support;

/// <summary>
/// CPU time used by the servers a scenario talks to (PostgreSQL's, Dovecot's processes), and by a process's threads,
/// from /proc. Wall-clock rates on a shared 2-core machine swing by ±15% between runs; the CPU each side spends per
/// message moves far less, so it shows whether a change made the work smaller. Processes that start and exit between
/// two snapshots are not counted.
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
            if (int.TryParse(Path.GetFileName(dir), out _) && ReadStat(dir) is { } stat && totals.ContainsKey(stat.Command))
            {
                totals[stat.Command] += stat.Cpu;
            }
        }
        if (totals.ContainsKey("postgres") && ClusterCpu() is { } cluster)
        {
            totals["postgres"] = cluster;
        }
        return totals;
    }

    /// <summary>
    /// The CPU of the cluster tests/bench.sh started in BENCH_WORK/pg, not of every PostgreSQL on a shared machine: its
    /// postmaster with the time of its exited children (backends that closed since), and its live children. Null when
    /// there is no such cluster.
    /// </summary>
    private static TimeSpan? ClusterCpu()
    {
        var pidFile = Path.Combine(Environment.GetEnvironmentVariable("BENCH_WORK") ?? "", "pg", "data", "postmaster.pid");
        string postmaster;
        try
        {
            postmaster = File.ReadLines(pidFile).First().Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return null;
        }
        if (ReadStat(Path.Combine("/proc", postmaster)) is not { } root)
        {
            return null;
        }
        var total = root.Cpu + root.ChildrenCpu;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out _) && ReadStat(dir) is { } stat && stat.ParentId == postmaster)
            {
                total += stat.Cpu;
            }
        }
        return total;
    }

    /// <summary>
    /// A process's threads by id: name (".NET TP Worker", ".NET Tiered Com", ".NET BGC", ...) and CPU so far. Compare
    /// two snapshots by thread id: a thread that exits between them (the runtime retires idle ones) takes its time along.
    /// </summary>
    public static Dictionary<int, (string Name, TimeSpan Cpu)> ThreadsOf(int processId)
    {
        var threads = new Dictionary<int, (string Name, TimeSpan Cpu)>();
        var tasks = $"/proc/{processId}/task";
        if (!Directory.Exists(tasks))
        {
            return threads;
        }
        foreach (var dir in Directory.EnumerateDirectories(tasks))
        {
            if (int.TryParse(Path.GetFileName(dir), out var id) && ReadStat(dir) is { } stat)
            {
                threads[id] = (stat.Command, stat.Cpu);
            }
        }
        return threads;
    }

    /// <summary>CPU between two snapshots by thread name, numbered names ("Worker #3") counted together.</summary>
    public static Dictionary<string, TimeSpan> ByName(
        Dictionary<int, (string Name, TimeSpan Cpu)> before, Dictionary<int, (string Name, TimeSpan Cpu)> after)
    {
        var totals = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var (id, thread) in after)
        {
            var name = thread.Name.Split(" #")[0];
            var earlier = before.TryGetValue(id, out var then) ? then.Cpu : TimeSpan.Zero;
            totals[name] = totals.GetValueOrDefault(name) + (thread.Cpu - earlier);
        }
        return totals;
    }

    /// <summary>
    /// The command (or thread) name, user+system CPU, the parent's id and the user+system CPU of its exited children
    /// from DIR/stat; null when it exited while we looked.
    /// </summary>
    private static (string Command, TimeSpan Cpu, string ParentId, TimeSpan ChildrenCpu)? ReadStat(string dir)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(Path.Combine(dir, "stat"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // pid (comm) state ppid ... field 14 utime, 15 stime, in clock ticks; comm may contain spaces and parentheses.
        var open = stat.IndexOf('(', StringComparison.Ordinal);
        var close = stat.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            return null;
        }
        var fields = stat[(close + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        var childTicks = long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        return (stat[(open + 1)..close], TimeSpan.FromSeconds(ticks / (double)TicksPerSecond), fields[1],
            TimeSpan.FromSeconds(childTicks / (double)TicksPerSecond));
    }

    public static Dictionary<string, TimeSpan> Since(Dictionary<string, TimeSpan> before) =>
        Snapshot([.. before.Keys]).ToDictionary(p => p.Key, p => p.Value - before[p.Key], StringComparer.Ordinal);

    // USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).
    private const int TicksPerSecond = 100;
}
