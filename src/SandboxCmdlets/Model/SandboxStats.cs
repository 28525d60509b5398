using System;

namespace Sandbox
{
    /// <summary>One reading of a sandbox's resource use, as docker stats shows it.</summary>
    public sealed class SandboxStats
    {
        public string Name { get; internal set; } = "";
        public string Id { get; internal set; } = "";
        public string ShortId => Id.Length > 12 ? Id.Substring(0, 12) : Id;
        public string DockerHost { get; internal set; } = "";
        /// <summary>On a cluster: the node that runs the sandbox.</summary>
        public string? Node { get; internal set; }
        /// <summary>When the engine took the reading (UTC).</summary>
        public DateTime Time { get; internal set; }
        /// <summary>Share of one CPU, in percent, over the engine's last interval (200 = two CPUs busy).</summary>
        public double CpuPercent { get; internal set; }
        /// <summary>Memory in use without the page cache that the kernel can drop (usage minus inactive file pages).</summary>
        public long MemoryUsedBytes { get; internal set; }
        public long MemoryLimitBytes { get; internal set; }
        public double MemoryPercent { get; internal set; }
        public long Pids { get; internal set; }
        public long NetworkRxBytes { get; internal set; }
        public long NetworkTxBytes { get; internal set; }
        public long BlockReadBytes { get; internal set; }
        public long BlockWriteBytes { get; internal set; }

        public override string ToString() => $"{Name}: cpu {CpuPercent:0.00}% mem {Units.FormatBytes(MemoryUsedBytes)}/{Units.FormatBytes(MemoryLimitBytes)}";
    }
}
