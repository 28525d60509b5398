using System;

namespace Sandbox
{
    /// <summary>Something the engine did to one of this module's sandboxes.</summary>
    public sealed class SandboxEvent
    {
        /// <summary>When it happened, on the engine's clock (UTC).</summary>
        public DateTime Time { get; internal set; }
        public string Name { get; internal set; } = "";
        public string Id { get; internal set; } = "";
        public string ShortId => Id.Length > 12 ? Id.Substring(0, 12) : Id;
        /// <summary>created, started, command, oom, died, expired, removed, suspended, resumed or snapshot.</summary>
        public string Kind { get; internal set; } = "";
        /// <summary>The exit code of a sandbox that died, the command that ran, the image a snapshot went to.</summary>
        public string? Detail { get; internal set; }
        /// <summary>The engine's exit code, on died and expired.</summary>
        public int? ExitCode { get; internal set; }
        /// <summary>The engine's own name for it (die, exec_start, ...).</summary>
        public string Action { get; internal set; } = "";
        public string DockerHost { get; internal set; } = "";

        public override string ToString() => $"{Time:o} {Name} {Kind} {Detail}".TrimEnd();
    }
}
