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
        /// <summary>
        /// "removed" once this process removed the sandbox (through any object of it); "expired" once its deadline is known to
        /// have passed (it is gone, or going within moments); else <see cref="EngineState"/>.
        /// </summary>
        public string State => IsRemoved ? "removed" : IsExpired && !DeadlineUnknown ? "expired" : EngineState == "paused" ? "suspended" : EngineState;
        /// <summary>What the engine reported when this object was read (running, created, paused, exited, ...).</summary>
        public string EngineState { get; internal set; } = "";
        public string DockerHost { get; internal set; } = "";
        public DateTime CreatedAt { get; internal set; }
        public DateTime? ExpiresAt { get; internal set; }
        public int TimeoutSec { get; internal set; }
        /// <summary>-IdleTimeout: every use pushes <see cref="ExpiresAt"/> to then plus this many seconds; 0: none.</summary>
        public int IdleTimeoutSec { get; internal set; }
        /// <summary>The deadline no use can push it past (creation plus -Timeout); null for none.</summary>
        public DateTime? HardExpiresAt { get; internal set; }
        /// <summary>
        /// Null for a sandbox without a deadline; zero once the deadline has passed or the sandbox was removed. While suspended
        /// (without -KeepDeadline) the time left when it was suspended, which stands still.
        /// </summary>
        public TimeSpan? TimeLeft => IsRemoved ? TimeSpan.Zero
            : IsSuspendedFrozen && !IsExpired ? Suspension!.Value.Remaining
            : ExpiresAt is DateTime e ? (e > DateTime.UtcNow ? e - DateTime.UtcNow : TimeSpan.Zero) : (TimeSpan?)null;
        /// <summary><see cref="TimeLeft"/> in whole seconds, rounded up (0 only when no time is left), for scripts and JSON.</summary>
        public int? TimeLeftSec => TimeLeft is TimeSpan t ? (int)Math.Ceiling(t.TotalSeconds) : (int?)null;
        public bool IsExpired => ExpiresAt is DateTime e && e <= DateTime.UtcNow;
        public SandboxPort[] Ports { get; internal set; } = Array.Empty<SandboxPort>();
        public string WorkingDirectory { get; internal set; } = "/workspace";
        /// <summary>The local folder /workspace came from (mounted, copied or built into the image); null when none.</summary>
        public string? CodePath { get; internal set; }
        /// <summary>How /workspace was made: one of <see cref="WorkspaceModes"/>.</summary>
        public string WorkspaceMode { get; internal set; } = WorkspaceModes.Empty;
        /// <summary>The folder is the one -ProjectId made (or found) under ./projects, since no -Path was given.</summary>
        internal bool WorkspaceIsProjectFolder { get; set; }
        /// <summary>How /workspace was made, in words: "mounted read-write from /home/me/project", "copied from ...", "empty".</summary>
        public string Workspace
        {
            get
            {
                var from = WorkspaceIsProjectFolder ? $"{CodePath} (the folder of -ProjectId {ProjectId})" : CodePath;
                switch (WorkspaceMode)
                {
                    case WorkspaceModes.MountedReadWrite: return $"mounted read-write from {from}";
                    case WorkspaceModes.MountedReadOnly: return $"mounted read-only from {from}";
                    case WorkspaceModes.Copied: return $"copied from {from}";
                    case WorkspaceModes.Built: return $"built into the image from {from}";
                    case WorkspaceModes.Empty: return "empty";
                    default: return CodePath == null ? "not recorded (an older module made the sandbox)" : $"from {CodePath}, mounted or copied (an older module made the sandbox)";
                }
            }
        }
        public SandboxLimits Limits { get; internal set; } = new SandboxLimits();
        public string? NetworkMode { get; internal set; }
        /// <summary>The engine's container runtime that runs the sandbox: runc (the usual default), runsc (gVisor), ...</summary>
        public string Runtime { get; internal set; } = Lifecycle.EngineRuntimes.Default;
        public string? Owner { get; internal set; }
        /// <summary>The warm pool the sandbox came from; null when New-Sandbox started it.</summary>
        public string? Pool { get; internal set; }
        /// <summary>True while the sandbox waits in its pool, before New-Sandbox hands it out.</summary>
        public bool InPool { get; internal set; }
        public IReadOnlyDictionary<string, string> Labels { get; internal set; } = new Dictionary<string, string>();

        /// <summary>The swarm manager the sandbox was placed through (New-Sandbox -Cluster); null for a sandbox of one engine.</summary>
        public string? Cluster { get; internal set; }
        /// <summary>On a cluster: the service that is the sandbox (its one task's container is <see cref="Id"/>).</summary>
        public string? ServiceId { get; internal set; }
        /// <summary>On a cluster: the name of the node that runs the sandbox (<see cref="DockerHost"/> is that node's engine).</summary>
        public string? Node { get; internal set; }
        /// <summary>On a cluster: the node's address, where its published ports are.</summary>
        public string? NodeAddress { get; internal set; }
        /// <summary>On a cluster: the swarm's word for the task (pending, running, complete, failed, ...).</summary>
        public string? TaskState { get; internal set; }

        /// <summary>The engine that runs the sandbox's processes (on a cluster, its node's).</summary>
        internal Endpoints.DockerEndpoint? Endpoint { get; set; }
        /// <summary>The swarm manager's endpoint, for a sandbox on a cluster.</summary>
        internal Endpoints.DockerEndpoint? ClusterEndpoint { get; set; }
        /// <summary>Set on the copy of a sandbox that stands for a session piped into -Sandbox; see SessionToSandboxAttribute.</summary>
        internal SandboxSession? ViaSession { get; private set; }

        internal Sandbox ForSession(SandboxSession session)
        {
            var copy = (Sandbox)MemberwiseClone();
            copy.ViaSession = session;
            return copy;
        }
        /// <summary>When Suspend-Sandbox paused it; null when it is not suspended.</summary>
        public DateTime? SuspendedAt => EngineState == "paused" ? Suspension?.SuspendedAtUtc : null;
        /// <summary>
        /// While suspended: when it is removed unless resumed first (-MaxSuspend, or its deadline with -KeepDeadline); this is
        /// also <see cref="ExpiresAt"/> meanwhile.
        /// </summary>
        public DateTime? SuspendExpiresAt => SuspendedAt != null ? ExpiresAt : null;
        /// <summary>What the suspend record on the deadline volume says, for a paused sandbox.</summary>
        internal Lifecycle.SuspendRecord? Suspension { get; set; }
        bool IsSuspendedFrozen => SuspendedAt != null && !Suspension!.Value.KeepDeadline;

        /// <summary>Set when the deadline file could not be read: then nobody may treat the sandbox as expired.</summary>
        internal bool DeadlineUnknown { get; set; }
        bool IsRemoved => Lifecycle.SandboxRemover.IsRemovedHere(Id);

        public override string ToString() => Name;
    }
}
