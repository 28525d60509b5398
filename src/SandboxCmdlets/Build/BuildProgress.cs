namespace Sandbox.Build
{
    /// <summary>One report from a build: the step it is at, and a line of output when there is one.</summary>
    public sealed class BuildProgress
    {
        public string Tag { get; set; } = "";
        public int Step { get; set; }
        public int StepCount { get; set; }
        public string Instruction { get; set; } = "";
        /// <summary>A line of build output; null for reports of the context upload.</summary>
        public string? Line { get; set; }
        public long ContextBytesSent { get; set; }
        public long ContextBytesTotal { get; set; }
    }
}
