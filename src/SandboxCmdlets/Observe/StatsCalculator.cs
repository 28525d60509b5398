using System;
using System.Collections.Generic;
using System.Linq;
using Docker.DotNet.Models;

namespace Sandbox.Observe
{
    /// <summary>The engine's raw counters turned into what docker stats shows, with the docker CLI's arithmetic.</summary>
    public static class StatsCalculator
    {
        /// <summary>
        /// docker/cli calculateCPUPercentUnix: the container's CPU time over the host's in the interval between the two
        /// samples, times the CPUs online (so 100 is one CPU busy).
        /// </summary>
        public static double CpuPercent(ulong previousTotal, ulong? previousSystem, ulong total, ulong? system, uint? onlineCpus, int perCpuCount)
        {
            double cpuDelta = (double)total - previousTotal;
            double systemDelta = (double)(system ?? 0) - (previousSystem ?? 0);
            double online = onlineCpus is uint n && n > 0 ? n : perCpuCount;
            return systemDelta > 0 && cpuDelta > 0 ? cpuDelta / systemDelta * online * 100.0 : 0.0;
        }

        /// <summary>
        /// docker/cli calculateMemUsageUnixNoCache: usage less the inactive file pages the kernel can drop
        /// (total_inactive_file on cgroup v1, inactive_file on v2), when that is smaller than usage.
        /// </summary>
        public static ulong MemoryUsed(ulong usage, IDictionary<string, ulong>? stats)
        {
            if (stats != null)
            {
                if (stats.TryGetValue("total_inactive_file", out var v1) && v1 < usage) return usage - v1;
                if (stats.TryGetValue("inactive_file", out var v2) && v2 < usage) return usage - v2;
            }
            return usage;
        }

        public static double MemoryPercent(ulong used, ulong limit) => limit == 0 ? 0.0 : (double)used / limit * 100.0;

        /// <summary>docker/cli calculateBlockIO: bytes read and written, summed over devices (ops "Read"/"Write", any case).</summary>
        public static (ulong Read, ulong Write) BlockIo(IEnumerable<BlkioStatEntry>? entries)
        {
            ulong read = 0, write = 0;
            foreach (var entry in entries ?? Enumerable.Empty<BlkioStatEntry>())
            {
                if (string.IsNullOrEmpty(entry.Op)) continue;
                switch (char.ToLowerInvariant(entry.Op[0]))
                {
                    case 'r': read += entry.Value; break;
                    case 'w': write += entry.Value; break;
                }
            }
            return (read, write);
        }

        /// <summary>Bytes received and sent, summed over the container's networks.</summary>
        public static (ulong Rx, ulong Tx) Network(IDictionary<string, NetworkStats>? networks)
        {
            ulong rx = 0, tx = 0;
            foreach (var network in networks?.Values ?? Enumerable.Empty<NetworkStats>()) { rx += network.RxBytes; tx += network.TxBytes; }
            return (rx, tx);
        }

        /// <summary>Whether the engine gave the earlier sample that CPU % needs (the first of a stream has none).</summary>
        public static bool HasPreviousSample(ContainerStatsResponse response) =>
            response.PreCPUStats?.SystemUsage is ulong s && s > 0;

        public static SandboxStats ToStats(ContainerStatsResponse response, Sandbox sandbox)
        {
            var cpu = response.CPUStats ?? new CPUStats();
            var previous = response.PreCPUStats ?? new CPUStats();
            var memory = response.MemoryStats ?? new MemoryStats();
            var used = MemoryUsed(memory.Usage ?? 0, memory.Stats);
            var limit = memory.Limit ?? 0;
            var (read, write) = BlockIo(response.BlkioStats?.IoServiceBytesRecursive);
            var (rx, tx) = Network(response.Networks);
            return new SandboxStats
            {
                Name = sandbox.Name,
                Id = sandbox.Id,
                DockerHost = sandbox.DockerHost,
                Node = sandbox.Node,
                Time = response.Read.Kind == DateTimeKind.Local ? response.Read.ToUniversalTime() : DateTime.SpecifyKind(response.Read, DateTimeKind.Utc),
                CpuPercent = CpuPercent(previous.CPUUsage?.TotalUsage ?? 0, previous.SystemUsage, cpu.CPUUsage?.TotalUsage ?? 0, cpu.SystemUsage,
                    cpu.OnlineCPUs, cpu.CPUUsage?.PercpuUsage?.Count ?? 0),
                MemoryUsedBytes = (long)used,
                MemoryLimitBytes = (long)limit,
                MemoryPercent = MemoryPercent(used, limit),
                Pids = (long)(response.PidsStats?.Current ?? 0),
                NetworkRxBytes = (long)rx,
                NetworkTxBytes = (long)tx,
                BlockReadBytes = (long)read,
                BlockWriteBytes = (long)write,
            };
        }
    }
}
