using System;
using System.Collections.Generic;

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
        /// <summary>The last lines of stderr, kept whatever the capture limit, for the message of a failed command.</summary>
        public IReadOnlyList<string> StdErrTail { get; set; } = Array.Empty<string>();
    }
}
