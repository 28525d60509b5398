using System;
using System.Collections.Generic;

namespace Sandbox
{
    /// <summary>An image Save-Sandbox made from a sandbox's file system, on one engine.</summary>
    public sealed class SandboxSnapshot
    {
        public string Name { get; internal set; } = "";
        /// <summary>The image reference to start sandboxes from: sandbox-snapshot/&lt;name&gt;:latest.</summary>
        public string Image { get; internal set; } = "";
        public string ImageId { get; internal set; } = "";
        public string ShortImageId => ImageId.StartsWith("sha256:", StringComparison.Ordinal) && ImageId.Length > 19 ? ImageId.Substring(7, 12) : ImageId;
        public DateTime CreatedAt { get; internal set; }
        /// <summary>The name of the sandbox it was saved from.</summary>
        public string SourceSandbox { get; internal set; } = "";
        public string SourceSandboxId { get; internal set; } = "";
        /// <summary>How that sandbox's /workspace was made; a mounted one is empty in the snapshot.</summary>
        public string WorkspaceMode { get; internal set; } = WorkspaceModes.Unknown;
        /// <summary>Bytes, with the layers it shares with its base image.</summary>
        public long Size { get; internal set; }
        public string DockerHost { get; internal set; } = "";
        public IReadOnlyDictionary<string, string> Labels { get; internal set; } = new Dictionary<string, string>();

        public override string ToString() => Name;
    }
}
