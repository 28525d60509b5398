using System.Collections.Generic;

namespace Sandbox.Files
{
    public sealed class TransferResult
    {
        public int Files { get; set; }
        public long Bytes { get; set; }
        public List<string> Written { get; } = new List<string>();
        public List<(string Entry, string Reason)> Skipped { get; } = new List<(string, string)>();
    }
}
