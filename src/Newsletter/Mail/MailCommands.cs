using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Newsletter.Hosting;

namespace Newsletter.Mail;

/// <summary>The mail feature's verbs.</summary>
public static class MailCommands
{
    /// <summary><c>compile-templates ROOT</c>: compiles every template under ROOT and prints them as JSON on standard output (<see cref="TemplateCompilerProcess"/> runs it).</summary>
    public static Command CompileTemplates()
    {
        var root = new Argument<DirectoryInfo>("root") { Description = "The templates folder (Newsletter:Templates:Root)." };
        var command = new Command(TemplateCompilerProcess.Verb, "Compile every email template under ROOT and print the assemblies as JSON (a worker runs it at start).")
        {
            Hidden = true,
        };
        command.Arguments.Add(root);
        command.SetAction(async (result, ct) =>
        {
            using var logs = LoggerFactory.Create(builder => builder
                .AddSimpleConsole(console => console.SingleLine = true)
                .AddFilter(level => level >= LogLevel.Warning)
                .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
            var folder = result.GetValue(root)!;
            if (!folder.Exists)
            {
                return await Verbs.FailAsync(TemplateCompilerProcess.Verb, $"{folder.FullName}: no such folder", 2);
            }
            var templates = new EmailTemplates(Options.Create(new TemplateOptions { Root = folder.FullName }), logs.CreateLogger<EmailTemplates>());
            IReadOnlyList<CompiledTemplate> compiled;
            try
            {
                compiled = await templates.CompileAllAsync();
            }
            catch (InvalidOperationException ex)
            {
                return await Verbs.FailAsync(TemplateCompilerProcess.Verb, ex.Message, TemplateCompilerProcess.TemplateDoesNotCompile);
            }
            await using var stdout = Console.OpenStandardOutput();
            await JsonSerializer.SerializeAsync(stdout, compiled, TemplateCompilerProcess.Json, ct);
            return 0;
        });
        return command;
    }
}
