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
}
