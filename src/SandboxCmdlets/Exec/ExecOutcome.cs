using System;

namespace Sandbox.Exec
{
    public sealed class ExecOutcome
    {
        public int ExitCode { get; set; }
        public bool TimedOut { get; set; }
        public TimeSpan Duration { get; set; }
        public string StdOut { get; set; } = "";
        public string StdErr { get; set; } = "";
        public bool Truncated { get; set; }
        public bool OomKilled { get; set; }
    }
}
