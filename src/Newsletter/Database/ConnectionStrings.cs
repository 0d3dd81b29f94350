using Microsoft.Extensions.Options;
using Npgsql;

namespace Newsletter.Database;

/// <summary>Names the connection string; it is required everywhere except where an embedded server supplies it.</summary>
public static class ConnectionStrings
{
    public const string Key = "ConnectionStrings:Newsletter";

    /// <summary>The connection string, or a start-up failure that names the key.</summary>
    public static string Require(IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Newsletter");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new OptionsValidationException(Key, typeof(string),
                [$"{Key} is required: the PostgreSQL connection string, e.g. \"Host=db;Database=newsletter;Username=newsletter;Password=...\"."]);
        }
        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            // The keyword only, never a value; and not even the keyword after a password, which may be the password's rest.
            var problem = AfterPassword(connectionString, ex.ParamName)
                ? "a keyword after Password= is not one Npgsql knows (not shown: a ';' in a password ends it unless the password is quoted, Password='a;b')"
                : ex.Message.Replace($" (Parameter '{ex.ParamName}')", "", StringComparison.Ordinal).TrimEnd('.');
            throw new OptionsValidationException(Key, typeof(string),
                [$"{Key} is not a valid Npgsql connection string: {problem} (keywords: https://www.npgsql.org/doc/connection-string-parameters.html)."]);
        }
        return connectionString;
    }

    /// <summary>Whether <paramref name="keyword"/> is a segment's keyword after a Password (or Pwd) segment.</summary>
    private static bool AfterPassword(string connectionString, string? keyword)
    {
        var keys = connectionString.Split(';').Select(segment => segment.Split('=', 2)[0].Trim()).ToList();
        var password = keys.FindIndex(k => k.Equals("Password", StringComparison.OrdinalIgnoreCase) || k.Equals("Pwd", StringComparison.OrdinalIgnoreCase));
        return password >= 0 && keyword is not null
            && keys.Skip(password + 1).Any(k => k.Equals(keyword, StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>PostgreSQL for every feature: one pooled data source, and one whose commits do not wait for the disk.</summary>
public static class DatabaseServices
{
    /// <summary>Key of the data source whose commits do not wait for the disk: for per-message status updates only.</summary>
    public const string AsyncCommit = "async-commit";

    public static IServiceCollection AddDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = ConnectionStrings.Require(configuration);
        services.AddSingleton(_ => BuildDataSource(connectionString, sessionOptions: null));
        services.AddKeyedSingleton(AsyncCommit, (_, _) => BuildDataSource(connectionString, "-c synchronous_commit=off"));
        return services;
    }

    /// <summary>
    /// Every query here runs on a pooled connection, many per request or per digest. Two defaults change unless the
    /// connection string sets them: no DISCARD ALL each time a connection leaves the pool (nothing here leaves session
    /// state behind: advisory locks are released explicitly, temporary tables drop on commit), and the hot statements
    /// are prepared once per connection instead of parsed and planned on every use.
    /// </summary>
    internal static NpgsqlDataSource BuildDataSource(string connectionString, string? sessionOptions)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var settings = builder.ConnectionStringBuilder;
        // The plain builder knows only the keys actually written (Npgsql's answers true for every keyword it knows).
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose"))
        {
            settings.NoResetOnClose = true;
        }
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            settings.MaxAutoPrepare = 64;
        }
        if (sessionOptions is not null)
        {
            settings.Options = sessionOptions;
        }
        return builder.Build();
    }
}

/// <summary>
/// The first connection of a process (its migration) failed: no server there, a wrong password, no such database.
/// The message names the key and where it pointed, never the password; the process ends with it on one line.
/// </summary>
public sealed class DatabaseUnavailableException(string connectionString, NpgsqlException inner)
    : Exception(Describe(connectionString, inner), inner)
{
    private static string Describe(string connectionString, NpgsqlException inner)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var reason = inner.Message.TrimEnd('.');
        if (inner.InnerException is System.Net.Sockets.SocketException or TimeoutException && !reason.Contains(inner.InnerException.Message.TrimEnd('.'), StringComparison.Ordinal))
        {
            reason += $" ({inner.InnerException.Message.TrimEnd('.')})";
        }
        return $"{ConnectionStrings.Key}: cannot connect to PostgreSQL at {target.Host}:{target.Port}, database {target.Database ?? target.Username}, as {target.Username}: {reason}.";
    }
}
