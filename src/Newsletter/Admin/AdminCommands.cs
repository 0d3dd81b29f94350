using System.CommandLine;
using Newsletter.Hosting;

namespace Newsletter.Admin;

/// <summary><c>newsletter admin hash-password</c>: the value for <c>Newsletter:Admin:PasswordHash</c>, so no plain password is stored.</summary>
public static class AdminCommands
{
    public static Command Build() => new("admin", "Admin account tools.") { HashPassword() };

    private static Command HashPassword()
    {
        var command = new Command("hash-password", "Read a password from standard input and print its hash for Newsletter:Admin:PasswordHash.");
        command.SetAction(async (result, ct) =>
        {
            var password = (await Console.In.ReadLineAsync(ct))?.TrimEnd('\r');
            if (string.IsNullOrEmpty(password))
            {
                return await Verbs.FailAsync("admin hash-password", "no password on standard input", 2);
            }
            Console.Out.WriteLine(AdminCredentials.HashPassword(password));
            return 0;
        });
        return command;
    }
}
