using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Endpoints;

namespace Sandbox.Lifecycle
{
    /// <summary>The process's warm pools, which New-Sandbox asks before it creates a sandbox.</summary>
    public static class SandboxPools
    {
        static readonly object Gate = new object();
        static readonly List<SandboxPool> Pools = new List<SandboxPool>();
        static bool _stopsAtExit;

        public static SandboxPool Start(string name, DockerEndpoint endpoint, SandboxSpec template, int size, TimeSpan idleTimeout)
        {
            if (PoolSettings.WhyNotPoolable(template) is string why)
                throw new SandboxException("InvalidPoolSettings", SandboxErrorKind.InvalidArgument, $"A pool cannot hold sandboxes made with {why}.", name);
            SandboxPool pool;
            lock (Gate)
            {
                if (Pools.Any(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)))
                    throw new SandboxException("SandboxPoolExists", SandboxErrorKind.ResourceExists,
                        $"A pool named '{name}' is already running. Choose another -Name, or stop it with Stop-SandboxPool -Name {name}.", name);
                pool = new SandboxPool(name, endpoint, template, size, idleTimeout);
                Pools.Add(pool);
                if (!_stopsAtExit)
                {
                    // A pwsh that exits without removing the module removes its waiting members too; the idle
                    // deadline is only for one that is killed.
                    AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll(TimeSpan.FromSeconds(10));
                    _stopsAtExit = true;
                }
            }
            pool.Fill();
            return pool;
        }

        public static SandboxPool[] All { get { lock (Gate) return Pools.ToArray(); } }

        public static async Task StopAsync(SandboxPool pool)
        {
            lock (Gate) Pools.Remove(pool);
            await pool.StopAsync().ConfigureAwait(false);
        }

        /// <summary>
        /// A waiting member of a pool whose settings match, with the caller's deadline written; a sandbox null when no
        /// member is ready, or the reason when a hand-over failed (the caller then makes a fresh sandbox and says so).
        /// </summary>
        public static async Task<(Sandbox? Sandbox, string? Failure)> TakeAsync(DockerEndpoint endpoint, SandboxSpec spec, CancellationToken cancel)
        {
            var pools = All;
            if (pools.Length == 0 || PoolSettings.WhyNotPoolable(spec) != null) return (null, null);
            var key = PoolSettings.Key(endpoint, spec);
            foreach (var pool in pools.Where(p => p.Key == key))
            {
                var takenAt = DateTime.UtcNow;
                var member = pool.TryTake();
                if (member == null) continue;
                var failure = await pool.HandOverAsync(member, spec.TimeoutSec, takenAt, cancel).ConfigureAwait(false);
                return failure == null ? (member.Sandbox, (string?)null) : (null, failure);
            }
            return (null, null);
        }

        public static bool IsWaitingHere(string id) => All.Any(p => p.IsWaiting(id));

        /// <summary>
        /// A pool member waits without a deadline file; taking it writes one. So the file tells another process whether a
        /// member still waits, and holds the deadline of one that was taken (its labels hold the pool's idle deadline).
        /// </summary>
        public static async Task MarkMembersAsync(IEnumerable<Sandbox> sandboxes, Func<Sandbox, Task<SandboxDeadlines>> deadlinesOf, CancellationToken cancel)
        {
            await Task.WhenAll(sandboxes.Where(s => s.Pool != null && s.EngineState == "running").Select(async sandbox =>
            {
                if (IsWaitingHere(sandbox.Id)) { sandbox.InPool = true; return; }
                if (SandboxDeadlines.IsMovedHere(sandbox.Id)) return;
                var read = await (await deadlinesOf(sandbox).ConfigureAwait(false)).RefreshAsync(sandbox, cancel).ConfigureAwait(false);
                if (read.State == DeadlineFileState.Absent) sandbox.InPool = true;
            })).ConfigureAwait(false);
        }

        public static void Forget(string id)
        {
            foreach (var pool in All) pool.Forget(id);
        }

        /// <summary>For module removal: every pool stops and its waiting members go, within <paramref name="bound"/>.</summary>
        public static void StopAll(TimeSpan bound)
        {
            SandboxPool[] pools;
            lock (Gate)
            {
                pools = Pools.ToArray();
                Pools.Clear();
            }
            var stopping = Task.WhenAll(pools.Select(p => p.StopAsync()));
            try { stopping.Wait(bound); }
            catch (AggregateException) { /* the rest end at their idle deadline */ }
        }
    }
}
