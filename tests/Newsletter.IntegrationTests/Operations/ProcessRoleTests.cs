using System.Net;
using Newsletter.Hosting;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Operations;

/// <summary>A worker process answers its health checks and nothing else: no site, admin area or API to attack there.</summary>
public sealed class ProcessRoleTests
{
    [Fact]
    public async Task WorkerRole_SiteAdminAndApi_NotServedButHealthIs()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        await using var app = await TestApp.StartAsync(role: ProcessRole.Worker, connectionString: database.ConnectionString);
        using var client = app.CreateClient(useCookies: false);

        foreach (var path in new[] { "", "subscribe", "preview?interests=x", "admin", "admin/login", "admin/api/issues", "admin/jobs", "site.css" })
        {
            using var response = await client.GetAsync(path, Ct);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"GET /{path}: {response.StatusCode}");
        }
        using var subscribe = await client.PostAsync("subscribe", new FormUrlEncodedContent([new("Email", "x@example.org")]), Ct);
        Assert.Equal(HttpStatusCode.NotFound, subscribe.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("healthz", Ct)).StatusCode);
    }
}
