using System.Collections.Generic;

namespace Sandbox.Terminal
{
    /// <summary>What runs behind an interactive terminal in a sandbox.</summary>
    public sealed class TerminalRequest
    {
        /// <summary>The program and its arguments; null: bash when the image has it, else /bin/sh.</summary>
        public IList<string>? Shell { get; set; }
        public string? User { get; set; }
        public string? WorkingDirectory { get; set; }

        /// <summary>
        /// Needs /bin/sh, as a string command does; `exec` leaves the chosen shell as the exec's process, so its exit code is
        /// the exec's.
        /// </summary>
        public static readonly IList<string> DefaultShell = new[] { "/bin/sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash; fi; exec /bin/sh" };
    }
}
