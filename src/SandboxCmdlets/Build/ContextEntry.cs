using System.IO;

namespace Sandbox.Build
{
    /// <summary>One file, folder or symbolic link of the project that goes into the build context.</summary>
    public sealed class ContextEntry
    {
        /// <summary>Relative to the project folder, '/'-separated.</summary>
        public string Name { get; set; } = "";
        public FileSystemInfo Info { get; set; } = null!;
        public string? LinkTarget { get; set; }
        public int Mode { get; set; }
        public bool IsDirectory => LinkTarget == null && Info is DirectoryInfo;
        public bool IsFile => LinkTarget == null && Info is FileInfo;
    }
}
