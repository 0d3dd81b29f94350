using System.CommandLine;

namespace Newsletter.Admin;

/// <summary><c>newsletter admin hash-password</c>: the value for <c>Newsletter:Admin:PasswordHash</c>, so no plain password is stored.</summary>
public static class AdminCommands
{
    public static Command Build()
    {
        var hash = new Command("hash-password", "Read a password from standard input and print its hash for Newsletter:Admin:PasswordHash.");
        hash.SetAction(async (result, ct) =>
        {
            var password = (await Console.In.ReadLineAsync(ct))?.TrimEnd('\r');
            if (string.IsNullOrEmpty(password))
            {
                await Console.Error.WriteLineAsync("newsletter admin hash-password: no password on standard input");
                return 2;
            }
            Console.Out.WriteLine(AdminCredentials.HashPassword(password));
            return 0;
        });
        return new Command("admin", "Admin account tools.") { hash };
    }
}
