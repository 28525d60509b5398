using System;
using System.IO;
using Sandbox.Lifecycle;

namespace Sandbox.Endpoints
{

    /// <summary>A Docker engine address and how to reach it securely.</summary>
    public sealed class DockerEndpoint
    {
        public static readonly string DefaultHost = IsWindows ? "npipe:////./pipe/docker_engine" : "unix:///var/run/docker.sock";

        public string Host { get; }
        public Uri Uri { get; }
        public EndpointKind Kind { get; }
        /// <summary>Folder with ca.pem, cert.pem and key.pem; null for plain connections.</summary>
        public string? TlsCertPath { get; }
        public bool TlsVerify { get; }
        public Version? ApiVersion { get; }
        /// <summary>Where the endpoint came from, for error messages: "-DockerHost", "DOCKER_HOST", "context 'x'", "default".</summary>
        public string Source { get; }

        /// <summary>For ssh://: a user that overrides the one in the address, a password, and a key file instead of ~/.ssh's.</summary>
        public string? SshUser { get; private set; }
        public string? SshPassword { get; private set; }
        public string? SshIdentityFile { get; private set; }

        public bool UsesTls => TlsCertPath != null;
        /// <summary>The engine is a swarm manager, and sandboxes are placed through it on the cluster (-Cluster).</summary>
        public bool IsCluster { get; private set; }

        /// <summary>The same engine, as the manager of a cluster: sandboxes become services it places on its nodes.</summary>
        public DockerEndpoint AsCluster()
        {
            if (IsCluster) return this;
            var copy = (DockerEndpoint)MemberwiseClone();
            copy.IsCluster = true;
            return copy;
        }
        public bool IsLocal => Kind == EndpointKind.Unix || Kind == EndpointKind.NamedPipe;

        DockerEndpoint(string host, Uri uri, EndpointKind kind, string? tlsCertPath, bool tlsVerify, Version? apiVersion, string source)
        {
            Host = host; Uri = uri; Kind = kind; TlsCertPath = tlsCertPath; TlsVerify = tlsVerify; ApiVersion = apiVersion; Source = source;
        }

        /// <summary>The key under which connections are cached: the same host with different TLS settings is another endpoint.</summary>
        public string CacheKey => $"{Host}|{TlsCertPath}|{TlsVerify}|{ApiVersion}|{SshUser}|{SshIdentityFile}|{PasswordTag}";

        /// <summary>Tells passwords apart without keeping the password in the key.</summary>
        string PasswordTag
        {
            get
            {
                if (SshPassword == null) return "";
                using var sha = System.Security.Cryptography.SHA256.Create();
                return "password:" + Convert.ToBase64String(sha.ComputeHash(System.Text.Encoding.UTF8.GetBytes("sandbox-endpoint:" + SshPassword)), 0, 12);
            }
        }

        /// <summary>The same endpoint with SSH credentials; other endpoints ignore them.</summary>
        public DockerEndpoint WithSshCredentials(string? user, string? password, string? identityFile)
        {
            if (Kind != EndpointKind.Ssh || (user == null && password == null && identityFile == null)) return this;
            var copy = (DockerEndpoint)MemberwiseClone();
            copy.SshUser = user ?? SshUser;
            copy.SshPassword = password ?? SshPassword;
            copy.SshIdentityFile = identityFile ?? SshIdentityFile;
            return copy;
        }

        /// <summary>
        /// Another engine reached the same way: same scheme, port, TLS files, API version and SSH login, another host. How a
        /// swarm node's engine is found from its manager's.
        /// </summary>
        public DockerEndpoint WithHost(string host, string source)
        {
            var bracketed = host.Contains(":") && !host.StartsWith("[", StringComparison.Ordinal) ? "[" + host + "]" : host;
            switch (Kind)
            {
                case EndpointKind.Tcp:
                    return Parse($"{(TlsCertPath == null ? "http" : "tcp")}://{bracketed}:{Uri.Port}", source, TlsCertPath, TlsVerify, ApiVersion);
                case EndpointKind.Ssh:
                    var builder = new UriBuilder(Uri) { Host = host };
                    var copy = Parse(builder.Uri.ToString().TrimEnd('/'), source, null, false, ApiVersion);
                    copy.SshUser = SshUser; copy.SshPassword = SshPassword; copy.SshIdentityFile = SshIdentityFile;
                    return copy;
                default:
                    throw new SandboxException("NodeEngineUnknown", SandboxErrorKind.InvalidArgument,
                        $"The cluster's manager is reached through {Host}, a local socket, so the engine of node {host} cannot be derived from it.", host,
                        "Reach the manager by tcp:// or ssh://, or map each node to its engine with -NodeEndpoint @{ <node> = 'tcp://<address>:2376' }.");
            }
        }

        public static DockerEndpoint Parse(string host, string source = "-DockerHost", string? tlsCertPath = null, bool tlsVerify = false, Version? apiVersion = null)
        {
            var text = host?.Trim() ?? "";
            if (text.Length == 0)
                throw Invalid(host ?? "", "The Docker host is empty. Use unix:///var/run/docker.sock, tcp://host:2376, ssh://user@host or npipe:////./pipe/docker_engine.");
            if (text.StartsWith("/", StringComparison.Ordinal)) text = "unix://" + text;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
                throw Invalid(host!, $"'{host}' is not a Docker host address. Use unix:///path, tcp://host:port, ssh://user@host[:port] or npipe:////./pipe/name.");
            switch (uri.Scheme.ToLowerInvariant())
            {
                case "unix":
                    if (string.IsNullOrEmpty(uri.AbsolutePath) || uri.AbsolutePath == "/")
                        throw Invalid(host!, $"'{host}' names no socket file. Use unix:///var/run/docker.sock.");
                    return new DockerEndpoint("unix://" + uri.AbsolutePath, uri, EndpointKind.Unix, null, false, apiVersion, source);
                case "npipe":
                    if (!IsWindows)
                        throw Invalid(host!, $"'{host}' is a Windows named pipe; npipe:// exists only on Windows. Use unix:///var/run/docker.sock here.");
                    return new DockerEndpoint(text, uri, EndpointKind.NamedPipe, null, false, apiVersion, source);
                case "tcp":
                case "http":
                case "https":
                    if (string.IsNullOrEmpty(uri.Host))
                        throw Invalid(host!, $"'{host}' names no host. Use tcp://host:2376.");
                    // Uri calls an explicit :80 on http:// (or :443 on https://) the default port: look at the text instead.
                    var explicitPort = System.Text.RegularExpressions.Regex.IsMatch(text, @"^[a-zA-Z]+://(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/]*):\d+");
                    var port = explicitPort && uri.Port > 0 ? uri.Port : (tlsCertPath != null ? 2376 : 2375);
                    var normalized = $"tcp://{uri.Host}:{port}";
                    var plainAskedFor = uri.Scheme.Equals("http", StringComparison.OrdinalIgnoreCase);
                    if (tlsCertPath == null && !plainAskedFor && !IsLoopback(uri.Host))
                        throw new SandboxException("InsecureDockerHost", SandboxErrorKind.SecurityError,
                            $"'{host}' would talk to the engine without TLS, and anyone who can reach {uri.Host}:{port} can control that engine.", host,
                            "Set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the folder with ca.pem, cert.pem and key.pem; to connect without TLS anyway, write http://" + uri.Host + ":" + port + ".");
                    return new DockerEndpoint(normalized, new Uri(normalized), EndpointKind.Tcp, tlsCertPath, tlsVerify, apiVersion, source);
                case "ssh":
                    if (string.IsNullOrEmpty(uri.Host))
                        throw Invalid(host!, $"'{host}' names no host. Use ssh://user@host[:port].");
                    return new DockerEndpoint(text, uri, EndpointKind.Ssh, null, false, apiVersion, source);
                default:
                    throw Invalid(host!, $"'{uri.Scheme}://' is not a Docker host scheme. Use unix://, tcp://, ssh:// or npipe://.");
            }
        }

        static bool IsLoopback(string host) =>
            host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ||
            (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var ip) && System.Net.IPAddress.IsLoopback(ip));

        internal static bool IsWindows => Path.DirectorySeparatorChar == '\\';

        static SandboxException Invalid(string host, string message) =>
            new SandboxException("InvalidDockerHost", SandboxErrorKind.InvalidArgument, message, host);

        public override string ToString() => Host;
    }
}
