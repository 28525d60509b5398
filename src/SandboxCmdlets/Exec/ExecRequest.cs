using System;
using System.Collections.Generic;
using System.IO;

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
        public int CaptureLimitChars { get; set; } = DefaultCaptureLimitChars;

        /// <summary>
        /// Opens what the command reads on stdin, once per run; the runner reads it to its end, then closes the command's stdin
        /// (EOF), and disposes it. Null: stdin is not attached and the command reads an empty stdin.
        /// </summary>
        public Func<Stream>? OpenStandardInput { get; set; }

        public const int DefaultCaptureLimitChars = 8 * 1024 * 1024;

        /// <summary>
        /// A string command runs under /bin/sh -c. One that ends with '&amp;' starts a background process that would hold the
        /// exec's output pipes, and the engine then stalls this exec and the next one for seconds; so its output goes to files
        /// under /tmp/.sandbox-exec (where the background process can keep writing its log) and is printed when the shell exits.
        /// </summary>
        public static IList<string> Shell(string command) =>
            EndsWithBackgroundJob(command)
                ? new List<string> { "/bin/sh", "-c", BackgroundWrapper, "sh", command, Guid.NewGuid().ToString("N").Substring(0, 12) }
                : new List<string> { "/bin/sh", "-c", command };

        const string BackgroundWrapper =
            "d=/tmp/.sandbox-exec; o=\"$d/$2.out\"; e=\"$d/$2.err\"; " +
            "if mkdir -p -m 1777 \"$d\" 2>/dev/null && : >\"$o\" 2>/dev/null && : >\"$e\" 2>/dev/null; then " +
            "/bin/sh -c \"$1\" >\"$o\" 2>\"$e\" </dev/null; rc=$?; cat \"$o\"; cat \"$e\" >&2; exit $rc; " +
            "else exec /bin/sh -c \"$1\"; fi";

        public static bool EndsWithBackgroundJob(string command)
        {
            var trimmed = command.TrimEnd();
            return trimmed.EndsWith("&", StringComparison.Ordinal) && !trimmed.EndsWith("&&", StringComparison.Ordinal)
                   && !trimmed.EndsWith("\\&", StringComparison.Ordinal) && !trimmed.EndsWith(">&", StringComparison.Ordinal);
        }
    }
}
