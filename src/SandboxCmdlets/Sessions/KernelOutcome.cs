using Sandbox.Exec;

namespace Sandbox.Sessions
{
    /// <summary>What one piece of code in a kernel did: the outcome a plain run would have, and the language's error if it raised.</summary>
    public sealed class KernelOutcome
    {
        public ExecOutcome Outcome { get; set; } = new ExecOutcome();
        public KernelStatus Status { get; set; }
        /// <summary>The traceback (Python) or stack (Node) of an error the code raised; empty otherwise.</summary>
        public string Error { get; set; } = "";
        /// <summary>The kernel did not stop when interrupted and was killed: the next call starts a fresh one, without the old state.</summary>
        public bool KernelKilled { get; set; }
    }
}
