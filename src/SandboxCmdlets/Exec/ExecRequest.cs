using System;
using System.Collections.Generic;

namespace Sandbox.Exec
{
    public sealed class ExecRequest
    {
        /// <summary>The argv to run; a string command becomes /bin/sh -c.</summary>
        public IList<string> Argv { get; set; } = new List<string>();
        public string? WorkingDirectory { get; set; }
        public IDictionary<string, string> Environment { get; set; } = new Dictionary<string, string>();
        public string? User { get; set; }
        /// <summary>Zero or less: no limit.</summary>
        public TimeSpan Timeout { get; set; }
        /// <summary>How much of each stream the result keeps; the live callbacks see everything.</summary>
        public int CaptureLimitChars { get; set; } = 16 * 1024 * 1024;

        public static IList<string> Shell(string command) => new List<string> { "/bin/sh", "-c", command };
    }

    public sealed class ExecOutcome
    {
        public int ExitCode { get; set; }
        public bool TimedOut { get; set; }
        public TimeSpan Duration { get; set; }
        public string StdOut { get; set; } = "";
        public string StdErr { get; set; } = "";
        public bool Truncated { get; set; }
    }
}
