using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Endpoints;

namespace Sandbox.Lifecycle
{
    /// <summary>
    /// Idle timeouts: every use of a sandbox with -IdleTimeout pushes its deadline to now plus that, never past its hard
    /// deadline, by writing the deadline file (PID 1 keeps it with no PowerShell alive; other processes read it). Pushes
    /// run beside the command, only when the whole second the file holds changes (so at most one a second per sandbox),
    /// through one deadline writer per sandbox kept for this process.
    /// </summary>
    public sealed partial class SandboxDeadlines
    {
        sealed class Pusher
        {
            public readonly SemaphoreSlim Gate = new SemaphoreSlim(1, 1);
            public DeadlineWriter? Writer;
            public DockerEngine Engine = null!;
            public DateTime Pushed = DateTime.MinValue;
        }

        static readonly ConcurrentDictionary<string, Pusher> Pushers = new ConcurrentDictionary<string, Pusher>();

        /// <summary>Raised (on a thread-pool thread) when a push failed; the PowerShell layer makes it a warning.</summary>
        public static event Action<Sandbox, Exception>? PushFailed;

        /// <summary>
        /// The one place a use of a sandbox (command, copy, session, terminal) calls: for a sandbox with -IdleTimeout, starts
        /// pushing its deadline and returns at once. A failure is reported through <see cref="PushFailed"/>.
        /// </summary>
        public void Touch(Sandbox sandbox)
        {
            if (sandbox.IdleTimeoutSec <= 0 || sandbox.SuspendedAt != null || SandboxRemover.IsRemovedHere(sandbox.Id)) return;
            // On the engine's clock, so that the whole second the file holds is the deadline itself (rounding our deadline
            // up again on the engine's clock would add a second); an offset not yet known is asked by the push.
            var offset = EngineClock.Known(_engine);
            var engineTarget = IdleDeadline(DateTime.UtcNow + (offset ?? TimeSpan.Zero), sandbox.IdleTimeoutSec, sandbox.HardExpiresAt + (offset ?? TimeSpan.Zero));
            var pusher = Pushers.GetOrAdd(sandbox.Id, _ => new Pusher { Engine = _engine });
            lock (pusher)
            {
                if (engineTarget <= pusher.Pushed) return;
                pusher.Pushed = engineTarget;
            }
            sandbox.ExpiresAt = engineTarget - (offset ?? TimeSpan.Zero);
            sandbox.DeadlineUnknown = false;
            Remember(sandbox);
            _ = Task.Run(() => PushAsync(sandbox, pusher, engineTarget, offset == null));
        }

        async Task PushAsync(Sandbox sandbox, Pusher pusher, DateTime engineTarget, bool offsetUnknown)
        {
            await pusher.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                // A later push got here first: this one would move the deadline back.
                lock (pusher) if (pusher.Pushed > engineTarget) return;
                pusher.Writer ??= await CreateWriterAsync(sandbox, findLocalFolder: true, CancellationToken.None).ConfigureAwait(false);
                var deadline = offsetUnknown ? engineTarget + await ClockOffsetAsync(CancellationToken.None).ConfigureAwait(false) : engineTarget;
                await WriteFileAsync(sandbox, deadline, pusher.Writer, CancellationToken.None).ConfigureAwait(false);
            }
            // Gone (its deadline, or a removal): nothing is left to keep alive.
            catch (SandboxException e) when (e.Kind == SandboxErrorKind.ObjectNotFound) { }
            catch (Exception e)
            {
                lock (pusher) pusher.Pushed = DateTime.MinValue;
                PushFailed?.Invoke(sandbox, e);
            }
            finally { pusher.Gate.Release(); }
        }

        /// <summary>When the sandbox is removed: its deadline writer goes too (before its volume, which the writer holds).</summary>
        internal static async Task ReleasePusherAsync(string id)
        {
            if (!Pushers.TryRemove(id, out var pusher) || pusher.Writer == null) return;
            await new SandboxDeadlines(pusher.Engine).RemoveWriterQuietlyAsync(pusher.Writer).ConfigureAwait(false);
        }
    }
}
