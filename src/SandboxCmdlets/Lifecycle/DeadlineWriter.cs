namespace Sandbox.Lifecycle
{
    /// <summary>
    /// How a sandbox's deadline file is written from outside: through a never-started container that holds the deadline
    /// volume read-write, and, when the engine runs on this machine and its volume's folder was seen to be that very
    /// volume, straight into that folder.
    /// </summary>
    public sealed class DeadlineWriter
    {
        public DeadlineWriter(string containerId, string? localFolder)
        {
            ContainerId = containerId;
            LocalFolder = localFolder;
        }

        public string ContainerId { get; }

        /// <summary>The deadline volume's folder on this machine, proven to be the volume; null when there is none.</summary>
        public string? LocalFolder { get; }
    }
}
