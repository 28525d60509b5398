using System;

namespace Sandbox.Build
{
    public sealed class BuildResult
    {
        public string Tag { get; set; } = "";
        public string ImageId { get; set; } = "";
        /// <summary>True when an image of the same inputs already existed and nothing was built.</summary>
        public bool CacheHit { get; set; }
        public string Hash { get; set; } = "";
        public TimeSpan Elapsed { get; set; }
    }
}
