using System;
using System.Collections.Generic;
using System.Linq;
using Docker.DotNet.Models;
using Sandbox.Lifecycle;

namespace Sandbox.Cluster
{
    /// <summary>
    /// The swarm service a sandbox is: one replica that is never restarted, the same container as on one engine (security
    /// defaults, the deadline guard as PID 1, labels, deadline volume), limits that are also reservations so that the swarm
    /// places it where they fit, and ports published on the node itself.
    /// </summary>
    public static class ServiceSettings
    {
        public static ServiceCreateParameters ForSandbox(SandboxSpec spec, string name, IList<string> constraints, DateTime createdUtc, TimeSpan engineClockOffset)
        {
            if (spec.CodePath != null && !spec.CopyCode)
                throw new InvalidOperationException("A cluster sandbox's code is copied in, never mounted: the caller sets -PathAccess Copy.");
            if (spec.Runtime != null)
                throw new InvalidOperationException("A swarm service cannot choose a runtime: the caller refuses -Runtime with -Cluster (EngineRuntimes.RefuseOnCluster).");
            var labels = SandboxLabels.ForNewSandbox(spec, createdUtc);
            var deadlineVolume = $"{name}-deadline-{Guid.NewGuid().ToString("N").Substring(0, 8)}";
            labels[SandboxLabels.DeadlineVolume] = deadlineVolume;
            labels[SandboxLabels.Cluster] = "true";

            var mounts = new List<Mount>
            {
                // As on one engine (ContainerSettings): read-only inside, named, labelled for the sweep's prune. Made on the
                // node that runs the task.
                new Mount
                {
                    Type = "volume", Source = deadlineVolume, Target = DeadlineGuard.Folder, ReadOnly = true,
                    VolumeOptions = new VolumeOptions { Labels = new Dictionary<string, string> { [SandboxLabels.DeadlineVolume] = "true" } },
                },
            };
            if (spec.ReadOnlyRoot)
            {
                mounts.Add(new Mount { Type = "tmpfs", Target = "/tmp", TmpfsOptions = new TmpfsOptions { Mode = 0x3FF } });
                mounts.Add(new Mount { Type = "volume", Target = spec.WorkingDirectory });
            }

            var container = new ContainerSpec
            {
                Image = spec.Image,
                Labels = new Dictionary<string, string>(labels),
                Command = DeadlineGuard.Entrypoint,
                Args = DeadlineGuard.Command(SandboxDeadlines.GuardDeadline(spec.TimeoutSec, createdUtc, engineClockOffset, spec.IdleTimeoutSec)),
                Dir = spec.WorkingDirectory,
                User = spec.User ?? "",
                Env = spec.Environment.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
                // The deadline guard is PID 1 and reaps orphans as an init does; docker-init in its place would make the guard
                // an ordinary process that code inside could stop (see DeadlineGuard).
                Init = false,
                OpenStdin = true,     // where there is no pseudo-terminal, the deadline guard sleeps reading it
                ReadOnly = spec.ReadOnlyRoot,
                Mounts = mounts,
                StopGracePeriod = TimeSpan.FromSeconds(1),
                CapabilityDrop = new List<string> { "ALL" },
                CapabilityAdd = ContainerSettings.DefaultCapabilities.Select(c => "CAP_" + c).ToList(),
                Privileges = new Privileges { NoNewPrivileges = true },
                Ulimits = spec.Limits.Ulimits.Count > 0 ? spec.Limits.Ulimits.ToList() : null,
            };

            var task = new TaskSpec
            {
                ContainerSpec = container,
                Resources = Resources(spec.Limits),
                RestartPolicy = new SwarmRestartPolicy { Condition = "none" },
                Placement = new Placement { Constraints = constraints.Count > 0 ? constraints.ToList() : null },
                Networks = NetworksFor(spec.NetworkMode),
            };

            return new ServiceCreateParameters
            {
                Service = new ServiceSpec
                {
                    Name = name,
                    Labels = labels,
                    TaskTemplate = task,
                    Mode = new ServiceMode { Replicated = new ReplicatedService { Replicas = 1 } },
                    EndpointSpec = spec.Ports.Count == 0 ? null : new EndpointSpec
                    {
                        // Host mode: the port opens on the node that runs the task (and only there), not on every node's mesh.
                        Ports = spec.Ports.Select(p => new PortConfig
                        {
                            Protocol = p.Protocol,
                            TargetPort = (uint)p.ContainerPort,
                            PublishedPort = p.HostPort > 0 ? (uint)p.HostPort : (uint?)null,
                            PublishMode = "host",
                        }).ToList(),
                    },
                },
            };
        }

        /// <summary>The limits, and as much reserved, so that the swarm places a sandbox only where it fits.</summary>
        static ResourceRequirements Resources(ResourceLimits limits)
        {
            var unsupported = new List<string>();
            if (limits.MemorySwap != 0) unsupported.Add("memswap_limit");
            if (limits.MemorySwappiness != null) unsupported.Add("mem_swappiness");
            if (limits.CpuQuota > 0 || limits.CpuPeriod > 0) unsupported.Add("cpu_quota/cpu_period (use -Cpus)");
            if (limits.CpuShares > 0) unsupported.Add("cpu_shares");
            if (limits.CpusetCpus != null || limits.CpusetMems != null) unsupported.Add("cpuset_cpus/cpuset_mems");
            if (limits.ShmSize > 0) unsupported.Add("shm_size");
            if (limits.BlkioWeight > 0) unsupported.Add("blkio_weight");
            if (limits.OomKillDisable != null) unsupported.Add("oom_kill_disable");
            if (limits.StorageOpt.Count > 0) unsupported.Add("storage_opt");
            if (unsupported.Count > 0)
                throw new SandboxException("LimitNotOnCluster", SandboxErrorKind.InvalidArgument,
                    $"A swarm service cannot set {string.Join(", ", unsupported)}; on a cluster a sandbox takes -Memory, -Cpus, -PidsLimit, mem_reservation and ulimits.",
                    unsupported[0]);
            return new ResourceRequirements
            {
                Limits = new SwarmLimit
                {
                    MemoryBytes = limits.Memory > 0 ? limits.Memory : (long?)null,
                    NanoCPUs = limits.NanoCpus > 0 ? limits.NanoCpus : (long?)null,
                    Pids = limits.PidsLimit > 0 ? limits.PidsLimit : (long?)null,
                },
                Reservations = new SwarmResources
                {
                    MemoryBytes = limits.MemoryReservation > 0 ? limits.MemoryReservation : limits.Memory > 0 ? limits.Memory : (long?)null,
                    NanoCPUs = limits.NanoCpus > 0 ? limits.NanoCpus : (long?)null,
                },
            };
        }

        /// <summary>bridge: the node's default bridge (a service with no network); host, none or a swarm network by name.</summary>
        static IList<NetworkAttachmentConfig>? NetworksFor(string networkMode) =>
            string.Equals(networkMode, "bridge", StringComparison.OrdinalIgnoreCase) || networkMode.Length == 0
                ? null
                : new List<NetworkAttachmentConfig> { new NetworkAttachmentConfig { Target = networkMode } };
    }
}
