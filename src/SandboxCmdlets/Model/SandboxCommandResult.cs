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
        /// <summary><see cref="Duration"/> in seconds, to the millisecond, for scripts and JSON (a TimeSpan serializes as 15 fields).</summary>
        public double DurationSec => Math.Round(Duration.TotalSeconds, 3);
        public bool TimedOut { get; internal set; }
        public bool Truncated { get; internal set; }
        /// <summary>The kernel killed the command for using more memory than the sandbox may.</summary>
        public bool OomKilled { get; internal set; }
        public bool Succeeded => ExitCode == 0 && !TimedOut;

        /// <summary>
        /// The output as a native command's would read in a string: without the line ending(s) at the end, as the shell's
        /// $(...) drops them. <see cref="StdOut"/> keeps the output exactly as the command wrote it.
        /// </summary>
        public override string ToString() => StdOut.TrimEnd('\r', '\n');
    }
}
