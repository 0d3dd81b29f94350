using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Newsletter.Inbox;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Npgsql;
using Xunit;

namespace Newsletter.IntegrationTests.Admin;

/// <summary>What the admin tests share: signing in over HTTP, the sample issue, waiting on rows.</summary>
internal static partial class AdminTestKit
{
    public const string Password = "correct horse battery staple";
    public const string ApiToken = "test-api-token-0123456789abcdef";

    public static Dictionary<string, string?> SmtpSettings(SmtpCapture smtp) => new()
    {
        ["Newsletter:Smtp:Host"] = smtp.Host,
        ["Newsletter:Smtp:Port"] = smtp.Port.ToString(CultureInfo.InvariantCulture),
        ["Newsletter:Smtp:Security"] = "None",
        ["Newsletter:Smtp:Connections"] = "2",
    };

    /// <summary>The hidden antiforgery field of a page's form.</summary>
    public static async Task<string> AntiforgeryTokenAsync(HttpClient client, string path)
    {
        var html = await client.GetStringAsync(path, TestContext.Current.CancellationToken);
        var match = TokenField().Match(html);
        Assert.True(match.Success, $"{path} has no antiforgery field");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    /// <summary>A client holding the admin cookie (and the antiforgery cookie of the login form).</summary>
    public static async Task<HttpClient> SignedInClientAsync(TestWebApp app)
    {
        var client = app.CreateClient(allowRedirects: false, useCookies: true);
        var token = await AntiforgeryTokenAsync(client, "admin/login");
        using var response = await client.PostAsync("admin/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["password"] = Password,
            ["__RequestVerificationToken"] = token,
        }), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    public static async Task<long> IngestSampleAsync(IServiceProvider services)
    {
        var outcome = await services.GetRequiredService<MessageIngestor>()
            .IngestAsync(new InboundMail(Samples.SampleEml, Samples.SampleEml.Length, "cli"), TestContext.Current.CancellationToken);
        Assert.Equal(IngestStatus.Ingested, outcome.Status);
        return outcome.IssueId!.Value;
    }

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    public static async Task<List<string>> RowsAsync(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
        }
        return rows;
    }

    /// <summary>Polls a condition on rows the test cannot be notified about, with a deadline.</summary>
    public static Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        Eventually.WaitAsync(condition, timeout ?? Eventually.DefaultTimeout, what, TestContext.Current.CancellationToken);

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}
