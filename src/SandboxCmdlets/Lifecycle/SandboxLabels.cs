using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Sandbox.Lifecycle
{
    /// <summary>The labels that make the engine the source of truth for every sandbox.</summary>
    public static class SandboxLabels
    {
        public const string Prefix = "io.sandbox.";
        public const string Managed = Prefix + "managed";
        public const string Project = Prefix + "project";
        public const string Expires = Prefix + "expires";
        public const string Timeout = Prefix + "timeout";
        public const string Owner = Prefix + "owner";
        public const string Version = Prefix + "version";
        public const string WorkDir = Prefix + "workdir";
        public const string CodePath = Prefix + "codepath";
        /// <summary>How /workspace was made: one of <see cref="WorkspaceModes"/>.</summary>
        public const string Workspace = Prefix + "workspace";
        /// <summary>"true" when the code folder is the ./projects/&lt;id&gt; that -ProjectId chose.</summary>
        public const string ProjectFolder = Prefix + "projectfolder";
        public const string Memory = Prefix + "memory";
        public const string NanoCpus = Prefix + "nanocpus";
        public const string PidsLimit = Prefix + "pids";
        public const string Network = Prefix + "network";
        public const string User = Prefix + "user";
        public const string ReadOnly = Prefix + "readonly";
        /// <summary>On a sandbox: the name of its deadline volume. On that volume: "true".</summary>
        public const string DeadlineVolume = Prefix + "deadline-volume";
        /// <summary>The warm pool that started the sandbox (see <see cref="SandboxPool"/>).</summary>
        public const string Pool = Prefix + "pool";
        /// <summary>The runtime -Runtime chose (runsc ...); absent when the sandbox runs on the engine's default.</summary>
        public const string Runtime = Prefix + "runtime";
        /// <summary>"true" on a sandbox that is a swarm service (and on its task's container).</summary>
        public const string Cluster = Prefix + "cluster";
        /// <summary>-IdleTimeout in seconds, on a sandbox that has one; <see cref="Expires"/> is then its hard deadline.</summary>
        public const string IdleTimeout = Prefix + "idle-timeout";
        /// <summary>On a helper container (never a sandbox): the id of the sandbox it serves.</summary>
        public const string HelperFor = Prefix + "helper-for";
        /// <summary>"true" on an image Save-Sandbox made (see <see cref="SandboxSnapshots"/>); the module removes no other image.</summary>
        public const string Snapshot = Prefix + "snapshot";
        /// <summary>On a snapshot: the name and id of the sandbox it was saved from, when, and how its /workspace was made.</summary>
        public const string SnapshotOf = Prefix + "snapshot-of";
        public const string SnapshotOfId = Prefix + "snapshot-of-id";
        public const string SnapshotCreated = Prefix + "snapshot-created";
        public const string SnapshotWorkspace = Prefix + "snapshot-workspace";
        /// <summary>On a snapshot: machine:pid of the process that saved it, as <see cref="Owner"/> is on a sandbox.</summary>
        public const string SnapshotOwner = Prefix + "snapshot-owner";

        static DateTime Epoch => UnixTime.Epoch;

        public static string ModuleVersion => typeof(SandboxLabels).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

        public static long ToEpochSeconds(DateTime utc) => (long)(utc.ToUniversalTime() - Epoch).TotalSeconds;

        public static DateTime? ReadExpiry(IReadOnlyDictionary<string, string> labels)
        {
            if (!labels.TryGetValue(Expires, out var text) || !long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var epoch) || epoch <= 0)
                return null;
            // The label holds whole seconds, cut down: read it as the end of that second, so that no sweep acts early.
            return Epoch.AddSeconds(epoch + 1);
        }

        public static long? ReadLong(IReadOnlyDictionary<string, string> labels, string key) =>
            labels.TryGetValue(key, out var text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : (long?)null;

        public static Dictionary<string, string> ForNewSandbox(SandboxSpec spec, DateTime createdUtc)
        {
            var labels = new Dictionary<string, string>
            {
                [Managed] = "true",
                [Timeout] = spec.TimeoutSec.ToString(CultureInfo.InvariantCulture),
                [Expires] = SandboxDeadlines.ForNew(spec.TimeoutSec, createdUtc) is DateTime expires ? ToEpochSeconds(expires).ToString(CultureInfo.InvariantCulture) : "0",
                [Owner] = CurrentOwner,
                [Version] = ModuleVersion,
                [WorkDir] = spec.WorkingDirectory,
                [Workspace] = spec.WorkspaceMode,
                [Memory] = spec.Limits.Memory.ToString(CultureInfo.InvariantCulture),
                [NanoCpus] = spec.Limits.NanoCpus.ToString(CultureInfo.InvariantCulture),
                [PidsLimit] = (spec.Limits.PidsLimit ?? 0).ToString(CultureInfo.InvariantCulture),
                [Network] = spec.NetworkMode,
            };
            if (!string.IsNullOrEmpty(spec.ProjectId)) labels[Project] = spec.ProjectId!;
            if ((spec.CodePath ?? spec.BuiltFrom) is string codePath && codePath.Length > 0) labels[CodePath] = codePath;
            if (spec.CodeIsProjectFolder) labels[ProjectFolder] = "true";
            if (!string.IsNullOrEmpty(spec.User)) labels[User] = spec.User!;
            if (spec.ReadOnlyRoot) labels[ReadOnly] = "true";
            if (spec.IdleTimeoutSec > 0) labels[IdleTimeout] = spec.IdleTimeoutSec.ToString(CultureInfo.InvariantCulture);
            if (!string.IsNullOrEmpty(spec.Pool)) labels[Pool] = spec.Pool!;
            if (!string.IsNullOrEmpty(spec.Runtime)) labels[Runtime] = spec.Runtime!;
            ShadowInherited(labels);
            return labels;
        }

        /// <summary>
        /// Every key of this module a sandbox's container may carry. An image inherits a container's labels when it is
        /// committed (Save-Sandbox), and a container inherits its image's: a sandbox started from a snapshot would carry the
        /// saved sandbox's project, pool or code path unless it sets each key itself. Not the helper key, whose mere presence
        /// marks a container as a helper to sweep.
        /// </summary>
        public static readonly IReadOnlyList<string> SandboxKeys = typeof(SandboxLabels)
            .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.IsLiteral && f.GetRawConstantValue() is string value && value.StartsWith(Prefix, StringComparison.Ordinal) && value != Prefix && value != HelperFor)
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToArray();

        /// <summary>Sets every key of <see cref="SandboxKeys"/> not given to "", which <see cref="Effective"/> reads as absent.</summary>
        public static void ShadowInherited(IDictionary<string, string> labels)
        {
            foreach (var key in SandboxKeys)
                if (!labels.ContainsKey(key)) labels[key] = "";
        }

        /// <summary>The labels as they mean: a key of this module with an empty value is absent (see <see cref="ShadowInherited"/>).</summary>
        public static IReadOnlyDictionary<string, string> Effective(IReadOnlyDictionary<string, string> labels)
        {
            if (!labels.Any(kv => string.IsNullOrEmpty(kv.Value) && kv.Key.StartsWith(Prefix, StringComparison.Ordinal))) return labels;
            return labels.Where(kv => !string.IsNullOrEmpty(kv.Value) || !kv.Key.StartsWith(Prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
        }

        /// <summary>This process, as the owner labels name it: machine:pid.</summary>
        public static string CurrentOwner => $"{Environment.MachineName}:{CurrentProcessId}";

        static int CurrentProcessId
        {
            get { using var p = System.Diagnostics.Process.GetCurrentProcess(); return p.Id; }
        }
    }
}
