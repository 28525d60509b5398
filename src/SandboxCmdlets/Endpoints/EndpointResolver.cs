using System;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sandbox.Lifecycle;

namespace Sandbox.Endpoints
{
    /// <summary>
    /// Picks the engine the way the docker CLI does: an explicit host, else DOCKER_HOST (+ DOCKER_TLS_VERIFY,
    /// DOCKER_CERT_PATH), else DOCKER_CONTEXT or the current context of the CLI config, else the platform default.
    /// DOCKER_API_VERSION pins the API version in every case.
    /// </summary>
    public sealed class EndpointResolver
    {
        readonly Func<string, string?> _environment;

        public EndpointResolver(Func<string, string?>? environment = null)
        {
            _environment = environment ?? Environment.GetEnvironmentVariable;
        }

        public static EndpointResolver Default { get; } = new EndpointResolver();

        public DockerEndpoint Resolve(string? explicitHost)
        {
            var apiVersion = ApiVersion();
            if (explicitHost != null)
                return FromHostAndTlsVariables(explicitHost, "-DockerHost", apiVersion);

            var envHost = _environment("DOCKER_HOST");
            if (!string.IsNullOrWhiteSpace(envHost))
                return FromHostAndTlsVariables(envHost!, "DOCKER_HOST", apiVersion);

            var context = FromContext(apiVersion);
            return context ?? DockerEndpoint.Parse(DockerEndpoint.DefaultHost, "default", apiVersion: apiVersion);
        }

        public const string ClusterVariable = "SANDBOX_CLUSTER";

        /// <summary>
        /// The swarm manager that -Cluster names, else $env:SANDBOX_CLUSTER; null when neither does. Reached as an engine is
        /// (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_API_VERSION).
        /// </summary>
        public DockerEndpoint? ResolveCluster(string? explicitCluster)
        {
            if (explicitCluster != null) return FromHostAndTlsVariables(explicitCluster, "-Cluster", ApiVersion());
            var fromEnvironment = _environment(ClusterVariable);
            return string.IsNullOrWhiteSpace(fromEnvironment) ? null : FromHostAndTlsVariables(fromEnvironment!.Trim(), ClusterVariable, ApiVersion());
        }

        DockerEndpoint FromHostAndTlsVariables(string host, string source, Version? apiVersion)
        {
            var verify = IsTruthy(_environment("DOCKER_TLS_VERIFY"));
            var certPath = _environment("DOCKER_CERT_PATH");
            var isTcp = host.TrimStart().StartsWith("tcp://", StringComparison.OrdinalIgnoreCase) || host.TrimStart().StartsWith("https://", StringComparison.OrdinalIgnoreCase);
            string? tlsFolder = null;
            if (isTcp && (verify || !string.IsNullOrEmpty(certPath)))
                tlsFolder = string.IsNullOrEmpty(certPath) ? Path.Combine(HomeFolder(), ".docker") : certPath;
            return DockerEndpoint.Parse(host, source, tlsFolder, verify, apiVersion);
        }

        DockerEndpoint? FromContext(Version? apiVersion)
        {
            var configDir = _environment("DOCKER_CONFIG");
            if (string.IsNullOrEmpty(configDir)) configDir = Path.Combine(HomeFolder(), ".docker");
            var name = _environment("DOCKER_CONTEXT");
            if (string.IsNullOrEmpty(name))
            {
                var configFile = Path.Combine(configDir!, "config.json");
                if (!File.Exists(configFile)) return null;
                using var config = JsonDocument.Parse(File.ReadAllText(configFile));
                if (config.RootElement.ValueKind != JsonValueKind.Object || !config.RootElement.TryGetProperty("currentContext", out var current)) return null;
                name = current.GetString();
            }
            if (string.IsNullOrEmpty(name) || name == "default") return null;

            var id = ContextFolderName(name!);
            var meta = Path.Combine(configDir!, "contexts", "meta", id, "meta.json");
            if (!File.Exists(meta))
                throw new SandboxException("DockerContextNotFound", SandboxErrorKind.ObjectNotFound,
                    $"Docker context '{name}' was not found in {Path.Combine(configDir!, "contexts")}. List contexts with 'docker context ls'.", name);
            using var doc = JsonDocument.Parse(File.ReadAllText(meta));
            if (!doc.RootElement.TryGetProperty("Endpoints", out var endpoints) || !endpoints.TryGetProperty("docker", out var docker) ||
                !docker.TryGetProperty("Host", out var hostElement) || string.IsNullOrEmpty(hostElement.GetString()))
                throw new SandboxException("DockerContextInvalid", SandboxErrorKind.InvalidData, $"Docker context '{name}' has no docker endpoint host in {meta}.", name);
            var skipVerify = docker.TryGetProperty("SkipTLSVerify", out var skip) && skip.ValueKind == JsonValueKind.True;
            var tlsFolder = Path.Combine(configDir!, "contexts", "tls", id, "docker");
            var hasTls = File.Exists(Path.Combine(tlsFolder, "ca.pem")) || File.Exists(Path.Combine(tlsFolder, "cert.pem"));
            return DockerEndpoint.Parse(hostElement.GetString()!, $"context '{name}'", hasTls ? tlsFolder : null, hasTls && !skipVerify, apiVersion);
        }

        /// <summary>The CLI stores each context under the hex SHA-256 of its name.</summary>
        public static string ContextFolderName(string name)
        {
            using var sha = SHA256.Create();
            var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(name));
            var sb = new StringBuilder(hash.Length * 2);
            foreach (var b in hash) sb.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            return sb.ToString();
        }

        Version? ApiVersion()
        {
            var text = _environment("DOCKER_API_VERSION");
            if (string.IsNullOrWhiteSpace(text)) return null;
            if (!Version.TryParse(text!.Trim().TrimStart('v'), out var version))
                throw new SandboxException("InvalidDockerApiVersion", SandboxErrorKind.InvalidArgument,
                    $"DOCKER_API_VERSION '{text}' is not a version such as 1.41.", text);
            return version;
        }

        string HomeFolder() => _environment("HOME") ?? _environment("USERPROFILE") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

        static bool IsTruthy(string? value) => !string.IsNullOrEmpty(value) && value != "0" && !value!.Equals("false", StringComparison.OrdinalIgnoreCase);
    }
}
