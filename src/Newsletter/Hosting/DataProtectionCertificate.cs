using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Newsletter.Hosting;

/// <summary>
/// <c>Newsletter:DataProtection:CertificatePath</c> (a PKCS#12 file with its private key) and <c>CertificatePassword</c>:
/// the certificate the Data Protection keys are encrypted to before they are stored, so a copy of the database (a
/// backup, a replica) cannot sign admin cookies. Every web process needs the same certificate.
/// </summary>
public static class DataProtectionCertificate
{
    public const string PathKey = "Newsletter:DataProtection:CertificatePath";
    public const string PasswordKey = "Newsletter:DataProtection:CertificatePassword";

    /// <summary>
    /// The configured certificate, or null when none is configured or it cannot be used; then <paramref name="problem"/>
    /// says why, naming the key, and the start fails with the other configuration mistakes (<see cref="Require"/>).
    /// </summary>
    public static X509Certificate2? Load(IConfiguration configuration, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        problem = null;
        var path = configuration[PathKey];
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }
        // Read apart from decoding: the loader reports a missing or unreadable file as a cryptographic error.
        byte[] pkcs12;
        try
        {
            pkcs12 = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = $"{PathKey}: cannot read '{path}' ({ex.Message.TrimEnd('.')}): it must exist and be readable by the service's user.";
            return null;
        }
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12(pkcs12, configuration[PasswordKey], X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException ex)
        {
            problem = $"{PathKey}: cannot read the PKCS#12 certificate '{path}' ({ex.Message.TrimEnd('.')}; is {PasswordKey} right?).";
            return null;
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            problem = $"{PathKey}: '{path}' has no private key; keys encrypted to it could never be read back.";
            return null;
        }
        return certificate;
    }

    /// <summary>Fails the start-up validation with <paramref name="problem"/>.</summary>
    public static void Require(IServiceCollection services, string problem) =>
        services.AddOptionsWithValidateOnStart<Unusable>().Validate(_ => false, problem);

    /// <summary>What the start-up validation reports a certificate that cannot be used under.</summary>
    public sealed class Unusable;
}
