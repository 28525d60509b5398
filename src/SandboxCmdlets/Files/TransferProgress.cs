namespace Sandbox.Files
{
    public sealed class TransferProgress
    {
        public string CurrentPath { get; set; } = "";
        public long BytesDone { get; set; }
        /// <summary>-1 when the engine does not say how much is coming.</summary>
        public long BytesTotal { get; set; } = -1;
        public int FilesDone { get; set; }
    }
}
