using System;

namespace Sandbox
{
    public sealed class SandboxCommandResult
    {
        public string SandboxName { get; internal set; } = "";
        public string SandboxId { get; internal set; } = "";
        public string Command { get; internal set; } = "";
        public int ExitCode { get; internal set; }
        public string StdOut { get; internal set; } = "";
        public string StdErr { get; internal set; } = "";
        public TimeSpan Duration { get; internal set; }
        public bool TimedOut { get; internal set; }
        public bool Truncated { get; internal set; }
        /// <summary>The kernel killed the command for using more memory than the sandbox may.</summary>
        public bool OomKilled { get; internal set; }
        public bool Succeeded => ExitCode == 0 && !TimedOut;

        public override string ToString() => StdOut;
    }
}
