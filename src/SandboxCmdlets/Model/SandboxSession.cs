using System;
using System.Threading;

namespace Sandbox
{
    /// <summary>
    /// A shell kept alive inside a sandbox, spoken to over one engine exec stream. (Minimal shape until the sessions
    /// branch lands: the sandbox, its engine, and the Closing event the code kernels listen to.)
    /// </summary>
    public sealed partial class SandboxSession
    {
        public const string OpenState = "Open";
        public const string ClosedState = "Closed";

        public string Name { get; }
        public string State { get; private set; } = OpenState;
        public string? Reason { get; private set; }

        internal Sandbox Sandbox { get; }
        internal Endpoints.DockerEngine Engine { get; }

        /// <summary>Raised once, when the session closes for any reason.</summary>
        internal event Action? Closing;

        int _closingRaised;

        internal SandboxSession(string name, Sandbox sandbox, Endpoints.DockerEngine engine)
        {
            Name = name; Sandbox = sandbox; Engine = engine;
        }

        internal void Close(string reason)
        {
            if (Interlocked.Exchange(ref _closingRaised, 1) != 0) return;
            State = ClosedState; Reason = reason;
            try { Closing?.Invoke(); }
            catch (Exception) { /* a listener's failure must not keep the session from closing */ }
        }

        public override string ToString() => Name;
    }
}
