using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Docker.DotNet.Models;

namespace Sandbox.Lifecycle
{
    /// <summary>Host-config resource limits, read from the seed's limits hashtable (Docker SDK names) and idiomatic parameters.</summary>
    public sealed class ResourceLimits
    {
        public const long DefaultMemory = 1L << 30;
        public const long DefaultNanoCpus = 1_000_000_000;
        public const long DefaultPidsLimit = 100;

        public long Memory { get; set; }
        public long MemorySwap { get; set; }
        public long MemoryReservation { get; set; }
        public long? MemorySwappiness { get; set; }
        public long NanoCpus { get; set; }
        public long CpuQuota { get; set; }
        public long CpuPeriod { get; set; }
        public long CpuShares { get; set; }
        public string? CpusetCpus { get; set; }
        public string? CpusetMems { get; set; }
        public long? PidsLimit { get; set; }
        public long ShmSize { get; set; }
        public ushort BlkioWeight { get; set; }
        public bool? OomKillDisable { get; set; }
        public Dictionary<string, string> StorageOpt { get; } = new Dictionary<string, string>();
        public List<Ulimit> Ulimits { get; } = new List<Ulimit>();

        public static ResourceLimits Defaults() => new ResourceLimits { Memory = DefaultMemory, NanoCpus = DefaultNanoCpus, PidsLimit = DefaultPidsLimit };

        static readonly string[] KnownKeys =
        {
            "mem_limit", "memswap_limit", "mem_reservation", "mem_swappiness", "nano_cpus", "cpus", "cpu_quota", "cpu_period",
            "cpu_shares", "cpuset_cpus", "cpuset_mems", "pids_limit", "shm_size", "blkio_weight", "oom_kill_disable", "storage_opt", "ulimits",
        };

        static readonly Dictionary<string, string> Aliases = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["memory"] = "mem_limit", ["mem"] = "mem_limit", ["memory_swap"] = "memswap_limit", ["memoryswap"] = "memswap_limit",
            ["memory_reservation"] = "mem_reservation", ["memoryreservation"] = "mem_reservation", ["nanocpus"] = "nano_cpus",
            ["cpuquota"] = "cpu_quota", ["cpuperiod"] = "cpu_period", ["cpushares"] = "cpu_shares", ["cpusetcpus"] = "cpuset_cpus",
            ["cpusetmems"] = "cpuset_mems", ["pidslimit"] = "pids_limit", ["pids"] = "pids_limit", ["shmsize"] = "shm_size",
            ["blkioweight"] = "blkio_weight", ["oomkilldisable"] = "oom_kill_disable", ["storageopt"] = "storage_opt",
            ["memory_swappiness"] = "mem_swappiness", ["memoryswappiness"] = "mem_swappiness",
        };

        /// <summary>Applies a limits hashtable on top of these limits; throws InvalidLimit naming the key and what to fix.</summary>
        public void Apply(IDictionary table)
        {
            foreach (DictionaryEntry entry in table)
            {
                var rawKey = Convert.ToString(entry.Key, CultureInfo.InvariantCulture)?.Trim() ?? "";
                var key = Aliases.TryGetValue(rawKey, out var alias) ? alias : rawKey.ToLowerInvariant();
                var value = Unwrap(entry.Value);
                switch (key)
                {
                    case "mem_limit": Memory = Bytes(rawKey, value, min: 6L << 20); break;
                    case "memswap_limit": MemorySwap = IsMinusOne(value) ? -1 : Bytes(rawKey, value); break;
                    case "mem_reservation": MemoryReservation = Bytes(rawKey, value); break;
                    case "mem_swappiness": MemorySwappiness = Integer(rawKey, value, 0, 100); break;
                    case "nano_cpus": NanoCpus = Integer(rawKey, value, 1, long.MaxValue); break;
                    case "cpus": NanoCpus = CpusToNano(rawKey, value); break;
                    case "cpu_quota": CpuQuota = Integer(rawKey, value, 1000, long.MaxValue); break;
                    case "cpu_period": CpuPeriod = Integer(rawKey, value, 1000, 1_000_000); break;
                    case "cpu_shares": CpuShares = Integer(rawKey, value, 2, 262144); break;
                    case "cpuset_cpus": CpusetCpus = CpuSet(rawKey, value); break;
                    case "cpuset_mems": CpusetMems = CpuSet(rawKey, value); break;
                    case "pids_limit": PidsLimit = IsMinusOne(value) ? -1 : Integer(rawKey, value, 1, long.MaxValue); break;
                    case "shm_size": ShmSize = Bytes(rawKey, value); break;
                    case "blkio_weight": BlkioWeight = (ushort)Integer(rawKey, value, 10, 1000); break;
                    case "oom_kill_disable": OomKillDisable = Boolean(rawKey, value); break;
                    case "storage_opt": StorageOptions(rawKey, value); break;
                    case "ulimits": UlimitList(rawKey, value); break;
                    default:
                        throw Invalid(rawKey, $"'{rawKey}' is not a known limit. Use one of: {string.Join(", ", KnownKeys)}.");
                }
            }
        }

        public void ApplyTo(HostConfig host)
        {
            host.Memory = Memory;
            if (MemorySwap != 0) host.MemorySwap = MemorySwap;
            if (MemoryReservation > 0) host.MemoryReservation = MemoryReservation;
            if (MemorySwappiness != null) host.MemorySwappiness = MemorySwappiness;
            host.NanoCPUs = NanoCpus;
            if (CpuQuota > 0) host.CPUQuota = CpuQuota;
            if (CpuPeriod > 0) host.CPUPeriod = CpuPeriod;
            if (CpuShares > 0) host.CPUShares = CpuShares;
            if (CpusetCpus != null) host.CpusetCpus = CpusetCpus;
            if (CpusetMems != null) host.CpusetMems = CpusetMems;
            host.PidsLimit = PidsLimit;
            if (ShmSize > 0) host.ShmSize = ShmSize;
            if (BlkioWeight > 0) host.BlkioWeight = BlkioWeight;
            if (OomKillDisable != null) host.OomKillDisable = OomKillDisable;
            if (StorageOpt.Count > 0) host.StorageOpt = new Dictionary<string, string>(StorageOpt);
            if (Ulimits.Count > 0) host.Ulimits = Ulimits.ToList();
        }

        /// <summary>Docker refuses a quota together with nano_cpus; a user who sets the quota means it.</summary>
        public void Normalize()
        {
            if (CpuQuota > 0 || CpuPeriod > 0) NanoCpus = 0;
            if (MemorySwap > 0 && MemorySwap < Memory)
                throw Invalid("memswap_limit", $"memswap_limit ({Units.FormatBytes(MemorySwap)}) must be at least mem_limit ({Units.FormatBytes(Memory)}), or -1 for unlimited swap.");
            if (MemoryReservation > 0 && Memory > 0 && MemoryReservation > Memory)
                throw Invalid("mem_reservation", $"mem_reservation ({Units.FormatBytes(MemoryReservation)}) must not exceed mem_limit ({Units.FormatBytes(Memory)}).");
        }

        public static long CpusToNano(string key, object? value)
        {
            if (!TryDouble(value, out var cpus) || cpus <= 0 || cpus > 1024)
                throw Invalid(key, $"'{key}' must be a positive number of CPUs such as 0.5 or 2; got '{value}'.");
            return (long)Math.Round(cpus * 1e9);
        }

        static object? Unwrap(object? value) => value;

        static bool IsMinusOne(object? value) => TryDouble(value, out var d) && d == -1;

        static long Bytes(string key, object? value, long min = 0)
        {
            if (!Units.TryParseBytes(value, out var bytes))
                throw Invalid(key, $"'{key}' must be a size such as 512m, 2g or a number of bytes; got '{value}'.");
            if (bytes < min)
                throw Invalid(key, $"'{key}' must be at least {Units.FormatBytes(min)}; got '{value}'.");
            return bytes;
        }

        static long Integer(string key, object? value, long min, long max)
        {
            if (!TryDouble(value, out var d) || Math.Floor(d) != d || d < min || d > max)
                throw Invalid(key, $"'{key}' must be a whole number from {min} to {max}; got '{value}'.");
            return (long)d;
        }

        static bool Boolean(string key, object? value) => value switch
        {
            bool b => b,
            string s when bool.TryParse(s, out var b) => b,
            _ => throw Invalid(key, $"'{key}' must be $true or $false; got '{value}'."),
        };

        static string CpuSet(string key, object? value)
        {
            var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
            if (!System.Text.RegularExpressions.Regex.IsMatch(text, @"^\d+(-\d+)?(,\d+(-\d+)?)*$"))
                throw Invalid(key, $"'{key}' must list CPUs such as '0-1' or '0,2'; got '{value}'.");
            return text;
        }

        void StorageOptions(string key, object? value)
        {
            if (value is IDictionary table)
            {
                foreach (DictionaryEntry e in table)
                    StorageOpt[Convert.ToString(e.Key, CultureInfo.InvariantCulture)!] = Convert.ToString(Unwrap(e.Value), CultureInfo.InvariantCulture) ?? "";
                return;
            }
            var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
            foreach (var part in text.Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries))
            {
                var kv = part.Split(new[] { '=' }, 2);
                if (kv.Length != 2 || kv[0].Trim().Length == 0)
                    throw Invalid(key, $"'{key}' must be a hashtable such as @{{size='10G'}} or a string 'size=10G'; got '{value}'.");
                StorageOpt[kv[0].Trim()] = kv[1].Trim();
            }
        }

        void UlimitList(string key, object? value)
        {
            if (value is not IDictionary table)
                throw Invalid(key, $"'{key}' must be a hashtable such as @{{nofile='1024:2048'}}; got '{value}'.");
            foreach (DictionaryEntry e in table)
            {
                var name = Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? "";
                var text = Convert.ToString(Unwrap(e.Value), CultureInfo.InvariantCulture) ?? "";
                var parts = text.Split(':');
                if (name.Length == 0 || parts.Length > 2 || !long.TryParse(parts[0], out var soft) || !long.TryParse(parts[parts.Length - 1], out var hard) || soft > hard)
                    throw Invalid(key, $"ulimit '{name}' must be 'soft:hard' or one number; got '{text}'.");
                Ulimits.Add(new Ulimit { Name = name, Soft = soft, Hard = hard });
            }
        }

        static bool TryDouble(object? value, out double result)
        {
            switch (value)
            {
                case int i: result = i; return true;
                case long l: result = l; return true;
                case double d: result = d; return !double.IsNaN(d) && !double.IsInfinity(d);
                case float f: result = f; return true;
                case decimal m: result = (double)m; return true;
                case string s: return double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out result) && !double.IsNaN(result) && !double.IsInfinity(result);
                default: result = 0; return false;
            }
        }

        internal static SandboxException Invalid(string key, string message) =>
            new SandboxException("InvalidLimit", SandboxErrorKind.InvalidArgument, message, key);
    }
}
