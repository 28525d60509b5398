using System;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Exec;
using Sandbox.Sessions;

namespace Sandbox
{
    /// <summary>
    /// A shell kept alive inside a sandbox, spoken to over one engine exec stream: commands run in it one after another and
    /// share its working directory, environment and functions. Sessions live in the PowerShell process that opened them.
    /// </summary>
    public sealed partial class SandboxSession
    {
        public const string OpenState = "Open";
        public const string BrokenState = "Broken";
        public const string ClosedState = "Closed";

        public string Name { get; }
        /// <summary>Short and random, unique in this process.</summary>
        public string Id { get; }
        public string SandboxId => Sandbox.Id;
        public string SandboxName => Sandbox.Name;
        public string DockerHost => Sandbox.DockerHost;
        public DateTime CreatedAt { get; }
        /// <summary>"Open", "Broken" (its shell ended; open a new session) or "Closed" (removed, or its sandbox ended).</summary>
        public string State => _shell.State;
        /// <summary>Why the session is Broken or Closed; null while it is open.</summary>
        public string? Reason => _shell.EndReason;

        internal Sandbox Sandbox { get; }
        internal Endpoints.DockerEngine Engine { get; }
        internal ShellChannel Shell => _shell;

        /// <summary>Raised once, when the session closes for any reason (removed, its shell or its sandbox ended).</summary>
        internal event Action? Closing;

        readonly ShellChannel _shell;
        int _closingRaised;

        internal SandboxSession(string name, string id, Sandbox sandbox, Endpoints.DockerEngine engine, ShellChannel shell)
        {
            Name = name; Id = id; Sandbox = sandbox; Engine = engine; _shell = shell;
            CreatedAt = DateTime.UtcNow;
            _shell.Ended += RaiseClosing;
            if (sandbox.ExpiresAt is DateTime due) WatchDeadline(due - DateTime.UtcNow + DeadlineGrace);
        }

        static readonly TimeSpan DeadlineGrace = TimeSpan.FromSeconds(2);
        static readonly TimeSpan LongestRecheck = TimeSpan.FromMinutes(1);
        Timer? _deadlineWatch;

        // After the sandbox's deadline, ask whether it still runs (Set-Sandbox may have moved the deadline): closed when it
        // does not, else asked again, less and less often.
        void WatchDeadline(TimeSpan first)
        {
            var next = first;
            _deadlineWatch = new Timer(async _ =>
            {
                bool ended;
                try { ended = await _shell.CloseIfSandboxEndedAsync().ConfigureAwait(false); }
                catch (Exception) { ended = false; /* the engine did not answer: ask again later */ }
                if (ended) { _deadlineWatch?.Dispose(); return; }
                next = TimeSpan.FromTicks(Math.Min(Math.Max(next.Ticks * 2, DeadlineGrace.Ticks), LongestRecheck.Ticks));
                try { _deadlineWatch?.Change(next, Timeout.InfiniteTimeSpan); } catch (ObjectDisposedException) { /* closed meanwhile */ }
            }, null, first < TimeSpan.Zero ? TimeSpan.Zero : first, Timeout.InfiniteTimeSpan);
            _shell.Ended += () => _deadlineWatch?.Dispose();
        }

        /// <summary>Runs one command in the session's shell; see <see cref="ShellChannel.RunAsync"/>.</summary>
        internal Task<ExecOutcome> RunAsync(string command, TimeSpan timeout, int captureLimitChars, Action<string> onStdOut, Action<string> onStdErr, CancellationToken cancel) =>
            _shell.RunAsync(this, command, timeout, captureLimitChars, onStdOut, onStdErr, cancel);

        /// <summary>Ends the shell; the session is Closed from then on.</summary>
        internal void Close(string reason) => _shell.Close(reason);

        void RaiseClosing()
        {
            if (Interlocked.Exchange(ref _closingRaised, 1) != 0) return;
            try { Closing?.Invoke(); }
            catch (Exception) { /* a listener's failure must not keep the session from closing */ }
        }

        public override string ToString() => Name;
    }
}
