using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Newsletter.Admin;

/// <summary>
/// The admin's sign-ins, kept in PostgreSQL so that a session ends everywhere at once: signing out ends every session
/// (one admin, so also a cookie copied elsewhere), a new password ends those signed in with the old one, and each ends
/// <see cref="AdminOptions.SessionLifetime"/> after signing in, however often it is used. Checked on every request.
/// </summary>
public sealed class AdminSessions(NpgsqlDataSource db, AdminCredentials credentials, IOptions<AdminOptions> options, TimeProvider clock)
{
    /// <summary>The claim of the admin cookie that names its session.</summary>
    public const string SessionClaim = "newsletter:admin-session";

    /// <summary>Records a sign-in; the cookie carries the returned id and expires when the session does.</summary>
    public async Task<(Guid Id, DateTimeOffset ExpiresAt)> StartAsync(CancellationToken ct)
    {
        var id = Guid.NewGuid();
        var now = clock.GetUtcNow();
        var expiresAt = now + options.Value.SessionLifetime;
        await using var batch = db.CreateBatch();
        var insert = new NpgsqlBatchCommand(
            "insert into admin_sessions (id, credential_stamp, created_at, expires_at) values (@id, @stamp, @now, @expires)");
        insert.Parameters.AddWithValue("id", id);
        insert.Parameters.AddWithValue("stamp", credentials.SessionStamp);
        insert.Parameters.AddWithValue("now", now);
        insert.Parameters.AddWithValue("expires", expiresAt);
        // Sessions over for a day are history nobody reads.
        var prune = new NpgsqlBatchCommand("delete from admin_sessions where coalesce(ended_at, expires_at) < @before");
        prune.Parameters.AddWithValue("before", now - TimeSpan.FromDays(1));
        batch.BatchCommands.Add(insert);
        batch.BatchCommands.Add(prune);
        await batch.ExecuteNonQueryAsync(ct);
        return (id, expiresAt);
    }

    /// <summary>Whether the session still admits: not signed out, not expired, and started with the password configured now.</summary>
    public async Task<bool> IsLiveAsync(Guid id, CancellationToken ct)
    {
        await using var command = db.CreateCommand(
            "select exists (select 1 from admin_sessions where id = @id and ended_at is null and expires_at > @now and credential_stamp = @stamp)");
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        command.Parameters.AddWithValue("stamp", credentials.SessionStamp);
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Signing out: every session ends, wherever its cookie is.</summary>
    public async Task EndAllAsync(CancellationToken ct)
    {
        await using var command = db.CreateCommand("update admin_sessions set ended_at = @now where ended_at is null");
        command.Parameters.AddWithValue("now", clock.GetUtcNow());
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The cookie handler's check on every request: a cookie whose session ended is refused and removed.</summary>
    internal static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var sessions = context.HttpContext.RequestServices.GetRequiredService<AdminSessions>();
        var claim = context.Principal?.FindFirstValue(SessionClaim);
        if (!Guid.TryParse(claim, out var id) || !await sessions.IsLiveAsync(id, context.HttpContext.RequestAborted))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(AdminAuthentication.CookieScheme);
        }
    }
}
