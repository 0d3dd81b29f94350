using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Security;

namespace Newsletter.Tests.Digests;

/// <summary>A fresh 2048-bit RSA key in a PEM file, as an operator would configure it, and a verifier for its signatures.</summary>
internal sealed class DkimTestKey : IDisposable
{
    private readonly AsymmetricKeyParameter _public;

    public DkimTestKey()
    {
        var generator = new RsaKeyPairGenerator();
        generator.Init(new KeyGenerationParameters(new SecureRandom(), 2048));
        var keys = generator.GenerateKeyPair();
        _public = keys.Public;
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"dkim-{Guid.NewGuid():N}.pem");
        using var writer = new StreamWriter(Path);
        new PemWriter(writer).WriteObject(keys.Private);
    }

    public string Path { get; }

    /// <summary>The message's one DKIM-Signature header, and whether it verifies against this key.</summary>
    public async Task<(Header Signature, bool Valid)> VerifyAsync(MimeMessage message)
    {
        var signature = Assert.Single(message.Headers, h => h.Id == HeaderId.DkimSignature);
        var valid = await new DkimVerifier(new SingleKeyLocator(_public)).VerifyAsync(message, signature, TestContext.Current.CancellationToken);
        return (signature, valid);
    }

    public void Dispose() => File.Delete(Path);

    private sealed class SingleKeyLocator(AsymmetricKeyParameter key) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) => key;

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) => Task.FromResult(key);
    }
}
