using System.IO;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Docker.DotNet.X509;
using Sandbox.Lifecycle;

namespace Sandbox.Endpoints
{
    /// <summary>
    /// Client certificate and server check for tcp:// engines from the PEM files the docker CLI uses. The server must
    /// chain to ca.pem and its certificate must name the host we dialled: the X509 helper alone checks neither.
    /// </summary>
    static class TlsCredentials
    {
        public static CertificateCredentials Load(DockerEndpoint endpoint)
        {
            var folder = endpoint.TlsCertPath!;
            var cert = Path.Combine(folder, "cert.pem");
            var key = Path.Combine(folder, "key.pem");
            var ca = Path.Combine(folder, "ca.pem");
            if (!File.Exists(cert) || !File.Exists(key))
                throw new SandboxException("TlsCertificateNotFound", SandboxErrorKind.ObjectNotFound,
                    $"TLS for {endpoint.Host} needs cert.pem and key.pem in {folder}.", folder, "Set DOCKER_CERT_PATH to the folder with ca.pem, cert.pem and key.pem.");
            if (endpoint.TlsVerify && !File.Exists(ca))
                throw new SandboxException("TlsCertificateNotFound", SandboxErrorKind.ObjectNotFound,
                    $"DOCKER_TLS_VERIFY is set but {ca} is missing, so the engine at {endpoint.Host} cannot be verified.", ca);
#if NET
            var certificate = X509Certificate2.CreateFromPemFile(cert, key);
            // Windows' SChannel cannot use an ephemeral key for client authentication: round-trip through PKCS#12.
            if (System.OperatingSystem.IsWindows()) certificate = new X509Certificate2(certificate.Export(X509ContentType.Pkcs12));
            var authority = File.Exists(ca) ? X509Certificate2.CreateFromPem(File.ReadAllText(ca)) : null;
            return new CertificateCredentials(certificate)
            {
                ServerCertificateValidationCallback = (_, serverCertificate, _, errors) =>
                {
                    var problem = Problem(serverCertificate, errors, authority, endpoint, ca);
                    if (problem != null) Problems[endpoint.CacheKey] = problem;
                    else Problems.TryRemove(endpoint.CacheKey, out _);
                    return problem == null;
                },
            };
#else
            throw new SandboxException("TlsNotSupported", SandboxErrorKind.InvalidOperation,
                $"TLS engines ({endpoint.Host}) need PowerShell 7 in this version.", endpoint.Host);
#endif
        }

        static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Problems = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();

        /// <summary>Why the last TLS handshake with this endpoint failed on our side, if it did: .NET only says "rejected".</summary>
        public static string? LastProblem(DockerEndpoint endpoint) => Problems.TryGetValue(endpoint.CacheKey, out var problem) ? problem : null;

#if NET
        static string? Problem(X509Certificate? serverCertificate, SslPolicyErrors errors, X509Certificate2? authority, DockerEndpoint endpoint, string caPath)
        {
            var target = endpoint.Uri.Host;
            if (serverCertificate == null) return $"the engine at {endpoint.Host} sent no certificate.";
            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                return $"the engine's certificate ({serverCertificate.Subject}) is not issued for '{target}', the host that was dialled. Connect by a name or address the certificate lists.";
            if (authority == null)
                return errors == SslPolicyErrors.None ? null : $"the engine's certificate is not trusted by this machine ({errors}), and there is no ca.pem to check it against.";
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(authority);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (chain.Build(new X509Certificate2(serverCertificate))) return null;
            var status = string.Join(", ", System.Linq.Enumerable.Select(chain.ChainStatus, c => c.StatusInformation.Trim()));
            return $"the engine's certificate ({serverCertificate.Subject}, issued by {serverCertificate.Issuer}) does not chain to the CA in {caPath}: {status}";
        }
#endif
    }
}
