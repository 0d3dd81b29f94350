using System.Diagnostics;
using System.Globalization;

namespace Newsletter.Relevance;

/// <summary>
/// Where a short-lived process's start-up goes (the embedding child's): each step's time since the process started
/// and the CPU the process had used by then, said in one line. Thread-safe.
/// </summary>
public sealed class StartupSteps
{
    private readonly TimeProvider _clock;
    private readonly DateTimeOffset _processStarted;
    private readonly List<(string Step, TimeSpan Elapsed, TimeSpan Cpu)> _steps = [];
    private readonly Lock _gate = new();

    public StartupSteps(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        using var self = Process.GetCurrentProcess();
        _processStarted = new DateTimeOffset(self.StartTime.ToUniversalTime(), TimeSpan.Zero);
    }

    /// <summary>Notes that <paramref name="step"/> has just finished.</summary>
    public void Mark(string step)
    {
        var elapsed = _clock.GetUtcNow() - _processStarted;
        var cpu = Environment.CpuUsage.TotalTime;
        lock (_gate)
        {
            _steps.Add((step, elapsed, cpu));
        }
    }

    /// <summary>The steps in the order they finished: "name 0.31 s (0.25 s CPU), ...", times from the process's start.</summary>
    public override string ToString()
    {
        lock (_gate)
        {
            return string.Join(", ", _steps.OrderBy(s => s.Elapsed).Select(s => string.Create(CultureInfo.InvariantCulture,
                $"{s.Step} {s.Elapsed.TotalSeconds:0.00} s ({s.Cpu.TotalSeconds:0.00} s CPU)")));
        }
    }
}
