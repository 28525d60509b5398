using System.Collections.Generic;
using System.Linq;

namespace Sandbox
{
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
}
