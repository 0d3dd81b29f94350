using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Operations;

/// <summary>The verbs read their settings as the server does: the same environment, the same files, the same warning.</summary>
public sealed class VerbSettingsTests
{
    [Fact]
    public async Task Verb_EnvironmentNamedOnlyByAspNetCoreEnvironment_ReadsThatEnvironmentsFile()
    {
        // A host run as Staging through ASPNETCORE_ENVIRONMENT: the server reads appsettings.Staging.json, so must the verbs.
        await using var database = await TestDatabase.CreateAsync(Ct);
        var folder = Directory.CreateTempSubdirectory("newsletter-verb-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "appsettings.json"), "{}", Ct);
            await File.WriteAllTextAsync(Path.Combine(folder, "appsettings.Staging.json"),
                $$"""{ "ConnectionStrings": { "Newsletter": "{{database.ConnectionString}}" } }""", Ct);
            var settings = TestApp.DefaultSettings(database.ConnectionString);
            settings.Remove("ConnectionStrings:Newsletter");

            var (exitCode, output, errors) = await AppCommand.RunAsync(["subscribers", "list"], settings, folder,
                new Dictionary<string, string?> { ["ASPNETCORE_ENVIRONMENT"] = "Staging", ["DOTNET_ENVIRONMENT"] = null });

            Assert.True(exitCode == 0, $"exit code {exitCode}; output:\n{output}\nerrors:\n{string.Join('\n', errors)}");
            Assert.Empty(errors);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Verb_RunFromAFolderWithoutAppSettings_WarnsOnStandardErrorAndStillRuns()
    {
        // The shipped defaults are in the application's folder; from elsewhere they are not read, which the server says too.
        await using var database = await TestDatabase.CreateAsync(Ct);
        var folder = Directory.CreateTempSubdirectory("newsletter-verb-").FullName;
        try
        {
            var (exitCode, output, errors) = await AppCommand.RunAsync(["subscribers", "list"], TestApp.DefaultSettings(database.ConnectionString), folder);

            Assert.True(exitCode == 0, $"exit code {exitCode}; output:\n{output}\nerrors:\n{string.Join('\n', errors)}");
            var warning = Assert.Single(errors);
            Assert.Contains($"no appsettings.json in {folder}", warning, StringComparison.Ordinal);
            Assert.DoesNotContain("appsettings", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
