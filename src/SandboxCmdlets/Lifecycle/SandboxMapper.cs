using System;
using System.Collections.Generic;
using System.Linq;
using Docker.DotNet.Models;

namespace Sandbox.Lifecycle
{
    /// <summary>Builds the public Sandbox object from what the engine reports; labels carry everything a list call lacks.</summary>
    static class SandboxMapper
    {
        public static Sandbox FromList(ContainerListResponse c, string dockerHost) =>
            Build(c.ID, c.Names?.FirstOrDefault(), c.Image, c.State, c.Created, Labels(c.Labels), dockerHost,
                (c.Ports ?? new List<PortSummary>()).Where(p => p.PublicPort != null).Select(p => new SandboxPort
                {
                    ContainerPort = p.PrivatePort,
                    Protocol = p.Type ?? "tcp",
                    HostIp = string.IsNullOrEmpty(p.IP) ? "0.0.0.0" : p.IP!,
                    HostPort = p.PublicPort ?? 0,
                }));

        public static Sandbox FromInspect(ContainerInspectResponse c, string dockerHost)
        {
            var sandbox = FromInspectLabels(c, dockerHost);
            // The engine's word, where it has one: a sandbox without -Runtime runs on the engine's default, which may not be runc.
            if (!sandbox.Labels.ContainsKey(SandboxLabels.Runtime) && !string.IsNullOrEmpty(c.HostConfig?.Runtime)) sandbox.Runtime = c.HostConfig!.Runtime ?? EngineRuntimes.Default;
            SandboxDeadlines.FromEngineCreation(sandbox, c.Created.ToUniversalTime());
            return sandbox;
        }

        static Sandbox FromInspectLabels(ContainerInspectResponse c, string dockerHost) =>
            Build(c.ID, c.Name, c.Config?.Image ?? c.Image, c.State?.Status, c.Created, Labels(c.Config?.Labels), dockerHost,
                (c.NetworkSettings?.Ports ?? new Dictionary<string, IList<PortBinding>>())
                    .Where(kv => kv.Value != null)
                    .SelectMany(kv => kv.Value.Select(binding => new SandboxPort
                    {
                        ContainerPort = int.Parse(kv.Key.Split('/')[0]),
                        Protocol = kv.Key.Contains("/") ? kv.Key.Split('/')[1] : "tcp",
                        HostIp = string.IsNullOrEmpty(binding.HostIP) ? "0.0.0.0" : binding.HostIP,
                        HostPort = int.TryParse(binding.HostPort, out var port) ? port : 0,
                    })));

        internal static Sandbox Build(string id, string? name, string image, string? state, DateTime created, IReadOnlyDictionary<string, string> labels,
            string dockerHost, IEnumerable<SandboxPort> ports)
        {
            labels = SandboxLabels.Effective(labels);
            var engineHost = EngineHostOf(dockerHost);
            var portList = ports.ToList();
            foreach (var port in portList) port.EngineHost = engineHost;
            labels.TryGetValue(SandboxLabels.Project, out var project);
            labels.TryGetValue(SandboxLabels.WorkDir, out var workdir);
            labels.TryGetValue(SandboxLabels.CodePath, out var codePath);
            labels.TryGetValue(SandboxLabels.Owner, out var owner);
            labels.TryGetValue(SandboxLabels.Network, out var network);
            labels.TryGetValue(SandboxLabels.Pool, out var pool);
            labels.TryGetValue(SandboxLabels.Workspace, out var workspace);
            labels.TryGetValue(SandboxLabels.Runtime, out var runtime);
            var sandbox = new Sandbox
            {
                Id = id,
                Name = (name ?? "").TrimStart('/'),
                ProjectId = project,
                Image = image,
                EngineState = state ?? "",
                DockerHost = dockerHost,
                CreatedAt = created.ToUniversalTime(),
                ExpiresAt = SandboxLabels.ReadExpiry(labels),
                HardExpiresAt = SandboxLabels.ReadExpiry(labels),
                IdleTimeoutSec = (int)(SandboxLabels.ReadLong(labels, SandboxLabels.IdleTimeout) ?? 0),
                TimeoutSec = (int)(SandboxLabels.ReadLong(labels, SandboxLabels.Timeout) ?? 0),
                Ports = portList.GroupBy(p => (p.ContainerPort, p.Protocol, p.HostPort))
                    .Select(g => g.OrderBy(p => p.HostIp.Contains(":") ? 1 : 0).First())
                    .OrderBy(p => p.ContainerPort).ToArray(),
                WorkingDirectory = string.IsNullOrEmpty(workdir) ? "/workspace" : workdir!,
                CodePath = codePath,
                WorkspaceMode = WorkspaceModeOf(workspace),
                WorkspaceIsProjectFolder = labels.TryGetValue(SandboxLabels.ProjectFolder, out var projectFolder) && projectFolder == "true",
                Owner = owner,
                Pool = pool,
                NetworkMode = network,
                Runtime = string.IsNullOrEmpty(runtime) ? EngineRuntimes.Default : runtime!,
                Limits = new SandboxLimits
                {
                    MemoryBytes = SandboxLabels.ReadLong(labels, SandboxLabels.Memory) ?? 0,
                    NanoCpus = SandboxLabels.ReadLong(labels, SandboxLabels.NanoCpus) ?? 0,
                    PidsLimit = SandboxLabels.ReadLong(labels, SandboxLabels.PidsLimit),
                },
                Labels = labels,
            };
            // Until a use moves it (in the deadline file), an idle sandbox's deadline is its creation plus the idle timeout.
            if (sandbox.IdleTimeoutSec > 0) sandbox.ExpiresAt = SandboxDeadlines.IdleDeadline(sandbox.CreatedAt, sandbox.IdleTimeoutSec, sandbox.HardExpiresAt);
            Endpoints.Ssh.PortTunnels.Apply(sandbox);
            SandboxDeadlines.ApplyKnown(sandbox);
            return sandbox;
        }

        static readonly string[] KnownWorkspaceModes =
        {
            WorkspaceModes.MountedReadWrite, WorkspaceModes.MountedReadOnly, WorkspaceModes.Copied, WorkspaceModes.Built, WorkspaceModes.Empty,
        };

        /// <summary>A sandbox made before the label existed, or by a newer module with a mode this one does not know: Unknown.</summary>
        static string WorkspaceModeOf(string? label) =>
            label != null && Array.IndexOf(KnownWorkspaceModes, label) >= 0 ? label : WorkspaceModes.Unknown;

        static string? EngineHostOf(string dockerHost)
        {
            if (!Uri.TryCreate(dockerHost, UriKind.Absolute, out var uri)) return null;
            if (uri.Scheme != "tcp" && uri.Scheme != "ssh") return null;
            return uri.Host.Trim('[', ']');
        }

        static IReadOnlyDictionary<string, string> Labels(IDictionary<string, string>? labels) =>
            labels == null ? new Dictionary<string, string>() : new Dictionary<string, string>(labels);
    }
}
