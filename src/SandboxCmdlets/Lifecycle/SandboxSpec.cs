using System.Collections.Generic;

namespace Sandbox.Lifecycle
{
    /// <summary>Everything New-Sandbox asks of the engine, already validated.</summary>
    public sealed class SandboxSpec
    {
        public const string DefaultImage = "gitpod/workspace-full:latest";
        public const int DefaultTimeoutSec = 300;

        public string Image { get; set; } = DefaultImage;
        /// <summary>What chose <see cref="Image"/>, for the error when it cannot be pulled.</summary>
        public ImageOrigin ImageOrigin { get; set; } = ImageOrigin.Given;
        public string? Name { get; set; }
        public string? ProjectId { get; set; }
        /// <summary>Local folder with the code, given to the sandbox at the working directory as <see cref="CodeAccess"/> says.</summary>
        public string? CodePath { get; set; }
        public SandboxPathAccess CodeAccess { get; set; } = SandboxPathAccess.ReadWrite;
        public bool CopyCode => CodePath != null && CodeAccess == SandboxPathAccess.Copy;
        /// <summary>The code folder is ./projects/&lt;id&gt;, which -ProjectId chose since no -Path was given.</summary>
        public bool CodeIsProjectFolder { get; set; }
        /// <summary>-Build: the folder that was built into <see cref="Image"/> (then <see cref="CodePath"/> is null).</summary>
        public string? BuiltFrom { get; set; }

        /// <summary>How the working directory is made: one of <see cref="WorkspaceModes"/>.</summary>
        public string WorkspaceMode =>
            BuiltFrom != null ? WorkspaceModes.Built
            : CodePath == null ? WorkspaceModes.Empty
            : CodeAccess == SandboxPathAccess.Copy ? WorkspaceModes.Copied
            : CodeAccess == SandboxPathAccess.ReadOnly ? WorkspaceModes.MountedReadOnly
            : WorkspaceModes.MountedReadWrite;
        public string WorkingDirectory { get; set; } = "/workspace";
        public int TimeoutSec { get; set; } = DefaultTimeoutSec;
        /// <summary>-IdleTimeout: every use pushes the deadline to now plus this, never past <see cref="TimeoutSec"/>; 0: none.</summary>
        public int IdleTimeoutSec { get; set; }
        public ResourceLimits Limits { get; set; } = ResourceLimits.Defaults();
        public string NetworkMode { get; set; } = "bridge";
        public IList<PortSpec> Ports { get; set; } = new List<PortSpec>();
        public IDictionary<string, string> Environment { get; set; } = new Dictionary<string, string>();
        /// <summary>The user every process runs as, unless a command says otherwise; null: the image's.</summary>
        public string? User { get; set; }
        /// <summary>A read-only root file system; /workspace and /tmp stay writable.</summary>
        public bool ReadOnlyRoot { get; set; }
        /// <summary>On a cluster: swarm placement constraints (node.labels.gpu==true, node.hostname!=a); all must hold.</summary>
        public IList<string> PlacementConstraints { get; set; } = new List<string>();
        /// <summary>The engine's container runtime (HostConfig.Runtime, such as runsc for gVisor); null: the engine's default.</summary>
        public string? Runtime { get; set; }
        /// <summary>The warm pool this sandbox waits in until New-Sandbox takes it; null for an ordinary sandbox.</summary>
        public string? Pool { get; set; }

        static readonly System.Text.RegularExpressions.Regex UserPattern =
            new System.Text.RegularExpressions.Regex(@"^[a-zA-Z0-9_][a-zA-Z0-9_.-]*(:[a-zA-Z0-9_][a-zA-Z0-9_.-]*)?\z");

        public static void ValidateUser(string user)
        {
            if (!UserPattern.IsMatch(user))
                throw new SandboxException("InvalidUser", SandboxErrorKind.InvalidArgument,
                    $"'{user}' is not a user. Use a name or uid, optionally with a group: 1000, nobody, 1000:1000.", user);
        }
    }
}
