using System;

namespace Sandbox.Files
{
    public sealed class TarEntry
    {
        public string Name { get; internal set; } = "";
        public TarEntryType Type { get; internal set; }
        public long Size { get; internal set; }
        public int Mode { get; internal set; }
        public DateTime Modified { get; internal set; }
        public string? LinkTarget { get; internal set; }
    }
}
