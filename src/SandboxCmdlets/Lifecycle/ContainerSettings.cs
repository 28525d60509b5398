using System;
using System.Collections.Generic;
using System.Linq;
using Docker.DotNet.Models;

namespace Sandbox.Lifecycle
{
    /// <summary>The container a sandbox is: its security defaults, limits, mounts, ports, labels and the deadline guard as PID 1.</summary>
    public static class ContainerSettings
    {
        /// <summary>Capabilities a typical image needs to install packages and run services as root; everything else is dropped.</summary>
        public static readonly string[] DefaultCapabilities = { "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "NET_BIND_SERVICE" };

        /// <param name="engineClockOffset">How far the engine's clock is ahead of ours: PID 1 keeps the engine host's time.</param>
        public static CreateContainerParameters ForSandbox(SandboxSpec spec, string name, DateTime createdUtc, TimeSpan engineClockOffset)
        {
            var host = new HostConfig
            {
                AutoRemove = true,
                Init = false,     // the deadline guard is PID 1 itself (see DeadlineGuard)
                Privileged = false,
                CapDrop = new List<string> { "ALL" },
                CapAdd = DefaultCapabilities.ToList(),
                SecurityOpt = new List<string> { "no-new-privileges:true" },
                NetworkMode = spec.NetworkMode,
                Runtime = spec.Runtime ?? "",
            };
            spec.Limits.ApplyTo(host);
            host.PidsLimit = EngineRuntimes.HostPidsLimit(host.PidsLimit, spec.Runtime);
            // Read-only inside, so that code in the sandbox cannot move its own deadline; named, because the engine
            // refuses read-only anonymous volumes; labelled, so that a sweep can prune it when the sandbox ended alone.
            var deadlineVolume = $"{name}-deadline-{Guid.NewGuid().ToString("N").Substring(0, 8)}";
            host.Mounts = new List<Mount>
            {
                new Mount
                {
                    Type = "volume", Source = deadlineVolume, Target = DeadlineGuard.Folder, ReadOnly = true,
                    VolumeOptions = new VolumeOptions { Labels = new Dictionary<string, string> { [SandboxLabels.DeadlineVolume] = "true" } },
                },
            };

            var bindsCode = spec.CodePath != null && !spec.CopyCode;
            if (bindsCode)
                host.Binds = new List<string> { $"{spec.CodePath}:{spec.WorkingDirectory}:{(spec.CodeAccess == SandboxPathAccess.ReadOnly ? "ro" : "rw")}" };
            if (spec.ReadOnlyRoot)
            {
                host.ReadonlyRootfs = true;
                host.Tmpfs = new Dictionary<string, string> { ["/tmp"] = "rw,exec,nosuid,nodev,mode=1777" };
                if (!bindsCode)
                    host.Mounts.Add(new Mount { Type = "volume", Target = spec.WorkingDirectory });
            }
            else if (EngineRuntimes.KeepsTmpInside(spec.Runtime))
            {
                // gVisor mounts its own tmpfs on an empty /tmp, inside its kernel, where the engine's archive API (Copy-SandboxItem,
                // Invoke-SandboxCode's script file) cannot reach: a volume there is a mount it leaves to the host.
                host.Mounts.Add(new Mount { Type = "volume", Target = "/tmp" });
            }

            var exposed = new Dictionary<string, EmptyStruct>();
            if (spec.Ports.Count > 0)
            {
                host.PortBindings = new Dictionary<string, IList<PortBinding>>();
                foreach (var port in spec.Ports)
                {
                    exposed[port.Key] = default;
                    if (!host.PortBindings.TryGetValue(port.Key, out var bindings))
                        host.PortBindings[port.Key] = bindings = new List<PortBinding>();
                    bindings.Add(new PortBinding { HostIP = port.HostIp, HostPort = port.HostPort > 0 ? port.HostPort.ToString() : "" });
                }
            }

            var labels = SandboxLabels.ForNewSandbox(spec, createdUtc);
            labels[SandboxLabels.DeadlineVolume] = deadlineVolume;
            return new CreateContainerParameters
            {
                Name = name,
                Image = spec.Image,
                Entrypoint = DeadlineGuard.Entrypoint,
                OpenStdin = true,     // where there is no pseudo-terminal, the deadline guard sleeps reading it
                Cmd = DeadlineGuard.Command(SandboxDeadlines.GuardDeadline(spec.TimeoutSec, createdUtc, engineClockOffset, spec.IdleTimeoutSec)),
                WorkingDir = spec.WorkingDirectory,
                User = spec.User ?? "",
                Env = spec.Environment.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
                Labels = labels,
                ExposedPorts = exposed,
                StopTimeout = TimeSpan.FromSeconds(1),
                HostConfig = host,
            };
        }

        /// <summary>
        /// A never-started container that shares a sandbox's deadline volume read-write, so that the deadline file can be
        /// written from outside. Labelled as the module's, so that a sweep removes one a crash left behind.
        /// </summary>
        public static CreateContainerParameters ForDeadlineWriter(Sandbox sandbox, string deadlineVolume) => new CreateContainerParameters
        {
            Image = sandbox.Image,
            Entrypoint = new List<string> { "/bin/true" },
            NetworkDisabled = true,
            Labels = new Dictionary<string, string>
            {
                [SandboxLabels.HelperFor] = sandbox.Id,
                [SandboxLabels.Version] = SandboxLabels.ModuleVersion,
            },
            HostConfig = new HostConfig
            {
                Mounts = new List<Mount> { new Mount { Type = "volume", Source = deadlineVolume, Target = DeadlineGuard.Folder } },
                NetworkMode = "none",
                CapDrop = new List<string> { "ALL" },
            },
        };
    }
}
