namespace Sandbox
{
    /// <summary>
    /// The values of <see cref="Sandbox.WorkspaceMode"/>: how the sandbox's /workspace was made. Strings rather than an enum,
    /// so that ConvertTo-Json writes the name, not a number.
    /// </summary>
    public static class WorkspaceModes
    {
        public const string MountedReadWrite = "MountedReadWrite";
        public const string MountedReadOnly = "MountedReadOnly";
        public const string Copied = "Copied";
        /// <summary>-Build: the folder was built into the sandbox's image.</summary>
        public const string Built = "Built";
        public const string Empty = "Empty";
        /// <summary>Made by a module version that did not record it.</summary>
        public const string Unknown = "Unknown";
    }
}
