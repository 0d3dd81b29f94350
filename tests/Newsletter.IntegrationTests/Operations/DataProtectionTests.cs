using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Newsletter.IntegrationTests.Admin;
using Newsletter.IntegrationTests.Infrastructure;
using Newsletter.IntegrationTests.Support;
using Xunit;

namespace Newsletter.IntegrationTests.Operations;

/// <summary>
/// The keys that sign admin cookies and form tokens sit in PostgreSQL; with a certificate configured, a copy of the
/// database (a backup, a replica) holds them only encrypted, and every web process with the certificate still reads them.
/// </summary>
public sealed class DataProtectionTests
{
    [Fact]
    public async Task Keys_CertificateConfigured_StoredEncryptedAndReadByTheNextProcess()
    {
        await using var database = await TestDatabase.CreateAsync(Ct);
        var certificate = await WriteCertificateAsync(Directory.CreateTempSubdirectory("newsletter-dp-").FullName);
        var settings = new Dictionary<string, string?>
        {
            ["Newsletter:DataProtection:CertificatePath"] = certificate,
            ["Newsletter:DataProtection:CertificatePassword"] = "pfx password",
        };

        string cookie;
        await using (var first = await TestApp.StartAsync(connectionString: database.ConnectionString, settings: settings))
        {
            using var client = first.CreateClient(useCookies: false);
            cookie = (await AdminTestKit.SignInAsync(client)).Get(AdminTestKit.AdminCookie)!;
        }
        var stored = await Sql.RowsAsync(database.ConnectionString, "select xml from data_protection_keys");

        HttpStatusCode reread;
        await using (var second = await TestApp.StartAsync(connectionString: database.ConnectionString, settings: settings))
        {
            using var client = second.CreateClient(useCookies: false);
            using var response = await AdminTestKit.GetWithCookieAsync(client, "admin", cookie);
            reread = response.StatusCode;
        }

        var key = Assert.Single(stored);
        Assert.Contains("<encryptedSecret", key, StringComparison.Ordinal);
        Assert.DoesNotContain("<masterKey", key, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, reread);
    }

    [Theory]
    [InlineData("no such file")]
    [InlineData("a folder")]
    [InlineData("wrong password")]
    public async Task Start_CertificateUnreadable_RefusedNamingTheCause(string problem)
    {
        var folder = Directory.CreateTempSubdirectory("newsletter-dp-").FullName;
        var certificate = await WriteCertificateAsync(folder);
        var settings = new Dictionary<string, string?>
        {
            ["Newsletter:DataProtection:CertificatePath"] = problem switch
            {
                "no such file" => Path.Combine(folder, "data-protecton.pfx"),
                "a folder" => folder,
                _ => certificate,
            },
            ["Newsletter:DataProtection:CertificatePassword"] = problem == "wrong password" ? "another password" : "pfx password",
        };

        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await (await TestApp.StartAsync(settings: settings)).DisposeAsync());

        var failure = Assert.Single(DeployExampleTests.Failures(refused), f => f.Contains("Newsletter:DataProtection:CertificatePath", StringComparison.Ordinal));
        // Only a file that is there and readable can have a wrong password: a mistyped path must not send anyone after it.
        Assert.Equal(problem == "wrong password", failure.Contains("CertificatePassword", StringComparison.Ordinal));
    }

    /// <summary>A self-signed certificate with its key, as the deploy README's openssl command makes one, protected by "pfx password".</summary>
    private static async Task<string> WriteCertificateAsync(string folder)
    {
        var certificate = Path.Combine(folder, "data-protection.pfx");
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=newsletter data protection", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        await File.WriteAllBytesAsync(certificate, created.Export(X509ContentType.Pkcs12, "pfx password"), Ct);
        return certificate;
    }
}
