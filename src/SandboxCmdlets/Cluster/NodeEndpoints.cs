using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Cluster
{
    /// <summary>
    /// Which engine runs a node's containers. By default the node's address reached as the manager is (scheme, port, TLS
    /// files, SSH login): tcp://10.0.0.11:2376 leads to tcp://10.0.0.12:2376. A map (-NodeEndpoint, SANDBOX_CLUSTER_NODES)
    /// names another for nodes behind NAT: by node name, id or address, to an endpoint or just a host[:port].
    /// </summary>
    public static class NodeEndpoints
    {
        /// <summary>Maps given for a cluster in this process, by the manager's host: given once, used by every later call.</summary>
        static readonly ConcurrentDictionary<string, IReadOnlyDictionary<string, string>> Given =
            new ConcurrentDictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.OrdinalIgnoreCase);

        public const string EnvironmentVariable = "SANDBOX_CLUSTER_NODES";

        public static void Remember(DockerEndpoint manager, IReadOnlyDictionary<string, string> map)
        {
            foreach (var entry in map) Check(entry.Key, entry.Value);
            Given[manager.Host] = new Dictionary<string, string>(map.ToDictionary(kv => kv.Key, kv => kv.Value), StringComparer.OrdinalIgnoreCase);
        }

        /// <summary>"node2=tcp://203.0.113.5:2376,node3=203.0.113.6" (commas or semicolons).</summary>
        public static IReadOnlyDictionary<string, string> Parse(string? text, string source)
        {
            var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var item in (text ?? "").Split(new[] { ',', ';' }).Select(i => i.Trim()).Where(i => i.Length > 0))
            {
                var equals = item.IndexOf('=');
                if (equals <= 0 || equals == item.Length - 1)
                    throw new SandboxException("InvalidNodeEndpoint", SandboxErrorKind.InvalidArgument,
                        $"'{item.Trim()}' in {source} is not node=endpoint. Write node2=tcp://203.0.113.5:2376,node3=203.0.113.6.", item);
                map[item.Substring(0, equals).Trim()] = item.Substring(equals + 1).Trim();
            }
            return map;
        }

        public static DockerEndpoint For(DockerEndpoint manager, NodeListResponse node)
        {
            var name = node.Description?.Hostname ?? "";
            var address = SwarmTasks.AddressOf(node);
            var source = $"node {name} ({address}) of cluster {manager.Host}";
            foreach (var map in Maps(manager))
                foreach (var key in new[] { name, node.ID, address })
                    if (key.Length > 0 && map.TryGetValue(key, out var target))
                        return target.Contains("://") ? DockerEndpoint.Parse(target, source, manager.TlsCertPath, manager.TlsVerify, manager.ApiVersion).WithSshCredentials(manager.SshUser, manager.SshPassword, manager.SshIdentityFile)
                            : WithHostAndPort(manager, target, source);
            if (address.Length == 0)
                throw new SandboxException("NodeEngineUnknown", SandboxErrorKind.ResourceUnavailable,
                    $"Node {name} of cluster {manager.Host} reports no address, so its engine cannot be reached.", name,
                    $"Map it with -NodeEndpoint @{{ '{name}' = 'tcp://<address>:2376' }}.");
            return manager.WithHost(address, source);
        }

        static IEnumerable<IReadOnlyDictionary<string, string>> Maps(DockerEndpoint manager)
        {
            if (Given.TryGetValue(manager.Host, out var given)) yield return given;
            var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(fromEnvironment)) yield return Parse(fromEnvironment, EnvironmentVariable);
        }

        static DockerEndpoint WithHostAndPort(DockerEndpoint manager, string target, string source)
        {
            var colon = target.LastIndexOf(':');
            if (colon > 0 && target.IndexOf(':') == colon && int.TryParse(target.Substring(colon + 1), out var port))
            {
                var scheme = manager.Kind == EndpointKind.Ssh ? "ssh" : manager.UsesTls ? "tcp" : "http";
                var user = manager.Kind == EndpointKind.Ssh && !string.IsNullOrEmpty(manager.Uri.UserInfo) ? manager.Uri.UserInfo + "@" : "";
                return DockerEndpoint.Parse($"{scheme}://{user}{target}", source, manager.TlsCertPath, manager.TlsVerify, manager.ApiVersion)
                    .WithSshCredentials(manager.SshUser, manager.SshPassword, manager.SshIdentityFile);
            }
            return manager.WithHost(target, source);
        }

        static void Check(string node, string target)
        {
            if (node.Trim().Length == 0 || target.Trim().Length == 0)
                throw new SandboxException("InvalidNodeEndpoint", SandboxErrorKind.InvalidArgument,
                    $"-NodeEndpoint maps a node (name, id or address) to its engine: @{{ node2 = 'tcp://203.0.113.5:2376' }}; '{node}' = '{target}' is not that.", node);
        }
    }
}
