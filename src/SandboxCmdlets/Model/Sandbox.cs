using System;
using System.Collections.Generic;
using System.Linq;

namespace Sandbox
{
    /// <summary>A sandbox container as the engine reports it.</summary>
    public sealed class Sandbox
    {
        public string Id { get; internal set; } = "";
        public string ShortId => Id.Length > 12 ? Id.Substring(0, 12) : Id;
        public string Name { get; internal set; } = "";
        public string? ProjectId { get; internal set; }
        public string Image { get; internal set; } = "";
        public string State { get; internal set; } = "";
        public string DockerHost { get; internal set; } = "";
        public DateTime CreatedAt { get; internal set; }
        public DateTime? ExpiresAt { get; internal set; }
        public int TimeoutSec { get; internal set; }
        public TimeSpan? TimeLeft => ExpiresAt is DateTime e ? (e > DateTime.UtcNow ? e - DateTime.UtcNow : TimeSpan.Zero) : (TimeSpan?)null;
        public bool IsExpired => ExpiresAt is DateTime e && e <= DateTime.UtcNow;
        public SandboxPort[] Ports { get; internal set; } = Array.Empty<SandboxPort>();
        public string WorkingDirectory { get; internal set; } = "/workspace";
        public string? CodePath { get; internal set; }
        public SandboxLimits Limits { get; internal set; } = new SandboxLimits();
        public string? NetworkMode { get; internal set; }
        public string? Owner { get; internal set; }
        /// <summary>The warm pool the sandbox came from; null when New-Sandbox started it.</summary>
        public string? Pool { get; internal set; }
        /// <summary>True while the sandbox waits in its pool, before New-Sandbox hands it out.</summary>
        public bool InPool { get; internal set; }
        public IReadOnlyDictionary<string, string> Labels { get; internal set; } = new Dictionary<string, string>();

        internal Endpoints.DockerEndpoint? Endpoint { get; set; }
        /// <summary>Set when the deadline file could not be read: then nobody may treat the sandbox as expired.</summary>
        internal bool DeadlineUnknown { get; set; }

        public override string ToString() => Name;
    }

    public sealed class SandboxPort
    {
        public int ContainerPort { get; internal set; }
        public string Protocol { get; internal set; } = "tcp";
        /// <summary>The address the port is published on, on the engine's host.</summary>
        public string HostIp { get; internal set; } = "127.0.0.1";
        public int HostPort { get; internal set; }
        /// <summary>On ssh:// engines, the port on this machine that is tunnelled to HostPort on the remote host.</summary>
        public int? LocalPort { get; internal set; }
        /// <summary>The engine's host name when it is another machine; null for a local engine.</summary>
        internal string? EngineHost { get; set; }

        /// <summary>Where a browser on this machine reaches the port; null when it cannot (a remote engine's loopback, untunnelled).</summary>
        public string? Url
        {
            get
            {
                if (Protocol != "tcp" || HostPort <= 0) return null;
                if (LocalPort is int local) return $"http://localhost:{local}";
                var wildcard = HostIp == "0.0.0.0" || HostIp == "::" || HostIp == "";
                if (EngineHost == null) return $"http://{(wildcard ? "localhost" : Bracket(HostIp))}:{HostPort}";
                if (wildcard) return $"http://{Bracket(EngineHost)}:{HostPort}";
                return System.Net.IPAddress.TryParse(HostIp, out var ip) && System.Net.IPAddress.IsLoopback(ip) ? null : $"http://{Bracket(HostIp)}:{HostPort}";
            }
        }

        static string Bracket(string host) => host.Contains(":") ? $"[{host}]" : host;

        public override string ToString()
        {
            var published = HostPort > 0 ? $"{HostIp}:{HostPort}->{ContainerPort}/{Protocol}" : $"{ContainerPort}/{Protocol}";
            return LocalPort is int local ? $"localhost:{local}=>{published}" : published;
        }
    }

    public sealed class SandboxLimits
    {
        public long MemoryBytes { get; internal set; }
        public long NanoCpus { get; internal set; }
        public double Cpus => NanoCpus / 1e9;
        public long? PidsLimit { get; internal set; }
        public long MemorySwapBytes { get; internal set; }
        public IReadOnlyDictionary<string, string> StorageOpt { get; internal set; } = new Dictionary<string, string>();

        public override string ToString()
        {
            var parts = new List<string>();
            if (MemoryBytes > 0) parts.Add($"mem={Units.FormatBytes(MemoryBytes)}");
            if (NanoCpus > 0) parts.Add($"cpus={Cpus:0.##}");
            if (PidsLimit is long p && p > 0) parts.Add($"pids={p}");
            parts.AddRange(StorageOpt.Select(kv => $"{kv.Key}={kv.Value}"));
            return string.Join(" ", parts);
        }
    }

    public sealed class SandboxCommandResult
    {
        public string SandboxName { get; internal set; } = "";
        public string SandboxId { get; internal set; } = "";
        public string Command { get; internal set; } = "";
        public int ExitCode { get; internal set; }
        public string StdOut { get; internal set; } = "";
        public string StdErr { get; internal set; } = "";
        public TimeSpan Duration { get; internal set; }
        public bool TimedOut { get; internal set; }
        public bool Truncated { get; internal set; }
        /// <summary>The kernel killed the command for using more memory than the sandbox may.</summary>
        public bool OomKilled { get; internal set; }
        public bool Succeeded => ExitCode == 0 && !TimedOut;

        public override string ToString() => StdOut;
    }
}
