using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Sandbox.Endpoints;

namespace Sandbox.Lifecycle
{
    /// <summary>Which New-Sandbox settings a pooled sandbox can serve, and the key that says two settings are the same.</summary>
    public static class PoolSettings
    {
        /// <summary>
        /// Why a sandbox with these settings cannot come from a pool, or null when it can. A name, a project, code and
        /// published ports are fixed when a container is created; the timeout is not (it is set when a member is taken).
        /// </summary>
        public static string? WhyNotPoolable(SandboxSpec spec)
        {
            if (spec.Name != null) return "-Name";
            if (spec.ProjectId != null) return "-ProjectId";
            if (spec.CodePath != null) return "-Path";
            if (spec.BuiltFrom != null) return "-Build";
            if (spec.Ports.Count > 0) return "-Port";
            // A pool member's labels and PID 1 have no idle timeout; a pooled idle sandbox is not done yet.
            if (spec.IdleTimeoutSec > 0) return "-IdleTimeout";
            return null;
        }

        /// <summary>Equal for two specs exactly when a container started for one serves the other (timeout aside).</summary>
        public static string Key(DockerEndpoint endpoint, SandboxSpec spec)
        {
            var l = spec.Limits;
            var parts = new List<string>
            {
                endpoint.CacheKey, endpoint.IsCluster ? "cluster" : "engine", NormalizeImage(spec.Image), spec.WorkingDirectory, spec.WorkspaceMode, spec.CodePath ?? spec.BuiltFrom ?? "",
                spec.NetworkMode, spec.Runtime ?? "", spec.User ?? "", spec.ReadOnlyRoot ? "ro" : "rw",
                Invariant(l.Memory), Invariant(l.MemorySwap), Invariant(l.MemoryReservation), Invariant(l.MemorySwappiness), Invariant(l.NanoCpus),
                Invariant(l.CpuQuota), Invariant(l.CpuPeriod), Invariant(l.CpuShares), l.CpusetCpus ?? "", l.CpusetMems ?? "", Invariant(l.PidsLimit),
                Invariant(l.ShmSize), Invariant(l.BlkioWeight), Invariant(l.OomKillDisable),
            };
            parts.AddRange(l.StorageOpt.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"storage:{kv.Key}={kv.Value}"));
            parts.AddRange(l.Ulimits.Select(u => $"ulimit:{u.Name}={Invariant(u.Soft)}:{Invariant(u.Hard)}").OrderBy(u => u, StringComparer.Ordinal));
            parts.AddRange(spec.PlacementConstraints.OrderBy(c => c, StringComparer.Ordinal).Select(c => $"constraint:{c}"));
            parts.AddRange(spec.Environment.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"env:{kv.Key}={kv.Value}"));
            // Length-prefixed, so that no value (an environment value may hold anything) can run into the next.
            var key = new StringBuilder();
            foreach (var part in parts) key.Append(part.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(part).Append(';');
            return key.ToString();
        }

        /// <summary>busybox and busybox:latest are one image; a digest or an explicit tag stays as written.</summary>
        public static string NormalizeImage(string image)
        {
            if (image.IndexOf('@') >= 0) return image;
            return image.LastIndexOf(':') > image.LastIndexOf('/') ? image : image + ":latest";
        }

        static string Invariant(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
    }
}
