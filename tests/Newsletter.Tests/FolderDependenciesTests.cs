using System.Text.RegularExpressions;

namespace Newsletter.Tests;

/// <summary>
/// Each feature folder of src/Newsletter may use another only if that one does not use it back, directly or through
/// others, so a newcomer can read the folders in order. The root (Program.cs, NewsletterServer.cs) composes them all.
/// </summary>
public sealed partial class FolderDependenciesTests
{
    [Fact]
    public void FeatureFolders_UseEachOtherWithoutCycles()
    {
        var edges = FolderEdges();

        var cycles = FindCycles(edges);

        Assert.True(cycles.Count == 0, $"{cycles.Count} folder cycles, the first ten:\n" + string.Join("\n", cycles.Take(10).Select(cycle =>
            string.Join(" -> ", cycle) + "\n  " + string.Join("\n  ",
                cycle.Zip(cycle.Skip(1)).Select(edge => $"{edge.First} -> {edge.Second}: {string.Join(", ", edges[edge.First][edge.Second])}")))));
    }

    [Fact]
    public void FindCycles_TwoFoldersUsingEachOther_ReportsTheCycle()
    {
        var edges = new Dictionary<string, Dictionary<string, SortedSet<string>>>
        {
            ["A"] = new() { ["B"] = ["A/One.cs"] },
            ["B"] = new() { ["C"] = ["B/Two.cs"] },
            ["C"] = new() { ["A"] = ["C/Three.cs"] },
            ["D"] = new() { ["A"] = ["D/Four.cs"] },
        };

        var cycle = Assert.Single(FindCycles(edges));

        Assert.Equal(["A", "B", "C", "A"], cycle);
    }

    /// <summary>folder -> folders it names (a using, or a qualified Newsletter.X.) -> the files that do.</summary>
    private static Dictionary<string, Dictionary<string, SortedSet<string>>> FolderEdges()
    {
        var root = Path.Combine(Repository.Root(), "src", "Newsletter");
        var folders = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>()
            .Where(name => name is not ("bin" or "obj" or "Properties" or "wwwroot")).ToHashSet(StringComparer.Ordinal);
        var edges = folders.ToDictionary(f => f, _ => new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            var files = Directory.EnumerateFiles(Path.Combine(root, folder), "*.*", SearchOption.AllDirectories)
                .Where(file => file.EndsWith(".cs", StringComparison.Ordinal) || file.EndsWith(".cshtml", StringComparison.Ordinal));
            foreach (var file in files)
            {
                foreach (Match match in NamespaceReference().Matches(File.ReadAllText(file)))
                {
                    var used = match.Groups[1].Value;
                    if (used != folder && folders.Contains(used))
                    {
                        var users = edges[folder].TryGetValue(used, out var known) ? known : edges[folder][used] = new SortedSet<string>(StringComparer.Ordinal);
                        users.Add(Path.GetRelativePath(root, file));
                    }
                }
            }
        }
        return edges;
    }

    /// <summary>Each cycle once, from its first folder in ordinal order, which is repeated at the end.</summary>
    private static List<string[]> FindCycles(Dictionary<string, Dictionary<string, SortedSet<string>>> edges)
    {
        var cycles = new List<string[]>();
        foreach (var start in edges.Keys.Order(StringComparer.Ordinal))
        {
            Walk(start, [start]);
        }
        return cycles;

        void Walk(string folder, List<string> path)
        {
            foreach (var next in edges.TryGetValue(folder, out var uses) ? uses.Keys.Order(StringComparer.Ordinal) : Enumerable.Empty<string>())
            {
                if (next == path[0])
                {
                    cycles.Add([.. path, next]);
                }
                else if (!path.Contains(next) && string.CompareOrdinal(next, path[0]) > 0)
                {
                    path.Add(next);
                    Walk(next, path);
                    path.RemoveAt(path.Count - 1);
                }
            }
        }
    }

    [GeneratedRegex(@"\bNewsletter\.([A-Z][A-Za-z]*)\b")]
    private static partial Regex NamespaceReference();
}
