using System.IO;
using System.Security.Cryptography.X509Certificates;
using Docker.DotNet.X509;
using Sandbox.Lifecycle;

namespace Sandbox.Endpoints
{
    /// <summary>Client certificate and CA check for tcp:// engines from the PEM files the docker CLI uses.</summary>
    static class TlsCredentials
    {
        public static CertificateCredentials Load(DockerEndpoint endpoint)
        {
            var folder = endpoint.TlsCertPath!;
            var cert = Path.Combine(folder, "cert.pem");
            var key = Path.Combine(folder, "key.pem");
            if (!File.Exists(cert) || !File.Exists(key))
                throw new SandboxException("TlsCertificateNotFound", SandboxErrorKind.ObjectNotFound,
                    $"TLS for {endpoint.Host} needs cert.pem and key.pem in {folder}.", folder, "Set DOCKER_CERT_PATH to the folder with ca.pem, cert.pem and key.pem.");
#if NET
            var certificate = X509Certificate2.CreateFromPemFile(cert, key);
            var credentials = new CertificateCredentials(certificate);
#else
            throw new SandboxException("TlsNotSupported", SandboxErrorKind.InvalidOperation,
                $"TLS engines ({endpoint.Host}) need PowerShell 7 in this version.", endpoint.Host);
#endif
#if NET
            return credentials;
#endif
        }
    }
}
