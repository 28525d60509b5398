using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Endpoints;

namespace Sandbox.Lifecycle
{
    /// <summary>
    /// The process-wide loop that removes expired sandboxes while nothing else runs: a timer on the thread pool.
    /// It never calls user code; it raises <see cref="Expired"/> and the PowerShell layer queues hooks onto the owning runspace.
    /// </summary>
    public sealed class CleanupEngine : IDisposable
    {
        static readonly object Gate = new object();
        static CleanupEngine? _instance;

        /// <summary>Started on first use; a module re-imported after removal gets a fresh one.</summary>
        public static CleanupEngine Instance
        {
            get
            {
                lock (Gate)
                {
                    if (_instance == null || _instance._disposed) _instance = new CleanupEngine(TimeSpan.FromMilliseconds(250));
                    return _instance;
                }
            }
        }

        public static bool IsCreated { get { lock (Gate) return _instance != null && !_instance._disposed; } }

        public static void Shutdown()
        {
            lock (Gate)
            {
                _instance?.Dispose();
                _instance = null;
            }
        }

        sealed class Tracked
        {
            public Sandbox Sandbox = null!;
            public DockerEndpoint Endpoint = null!;
            /// <summary>The deadline whose deadline file was read ahead of it (0: none yet).</summary>
            public long CheckedTicks;
        }

        /// <summary>How long before a deadline its sandbox's deadline file is read, in case another process moved it.</summary>
        static readonly TimeSpan LookAhead = TimeSpan.FromSeconds(1.5);

        readonly ConcurrentDictionary<string, Tracked> _tracked = new ConcurrentDictionary<string, Tracked>();
        /// <summary>Sandboxes whose removal is under way, so that a slow removal never holds up another or runs twice.</summary>
        readonly ConcurrentDictionary<string, byte> _removing = new ConcurrentDictionary<string, byte>();
        readonly Timer _timer;
        int _sweeping;
        DateTime _lastSweep = DateTime.MinValue;
        bool _disposed;

        /// <summary>Raised on a thread-pool thread after an expired sandbox was removed (or found already gone).</summary>
        public event Action<Sandbox>? Expired;

        public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

        static readonly TimeSpan ExpiryGrace = TimeSpan.FromMilliseconds(300);

        CleanupEngine(TimeSpan period)
        {
            _timer = new Timer(_ => Tick(), null, period, period);
        }

        public void Track(Sandbox sandbox, DockerEndpoint endpoint)
        {
            if (sandbox.ExpiresAt == null) { Untrack(sandbox.Id); return; }
            _tracked[sandbox.Id] = new Tracked { Sandbox = sandbox, Endpoint = endpoint };
        }

        public void Untrack(string id) => _tracked.TryRemove(id, out _);

        public int TrackedCount => _tracked.Count;

        // Every removal and sweep runs on its own: under load one removal can take seconds, and the sandboxes that
        // come due meanwhile must not wait for it.
        void Tick()
        {
            if (_disposed) return;
            var now = DateTime.UtcNow;
            // A moment's grace: the engine's clock and creation time are only so exact, and a sandbox must never go early.
            foreach (var tracked in _tracked.Values)
            {
                if (!(tracked.Sandbox.ExpiresAt is DateTime expiresAt)) continue;
                if (expiresAt + ExpiryGrace <= now)
                {
                    if (_removing.TryAdd(tracked.Sandbox.Id, 0)) _ = RemoveExpiredAsync(tracked);
                }
                else if (expiresAt - LookAhead <= now && Interlocked.Exchange(ref tracked.CheckedTicks, expiresAt.Ticks) != expiresAt.Ticks)
                {
                    _ = ReadMovedDeadlineAsync(tracked);
                }
            }

            if (now - _lastSweep < SweepInterval || Interlocked.Exchange(ref _sweeping, 1) == 1) return;
            _lastSweep = now;
            _ = Task.Run(SweepConnectedAsync);
        }

        async Task SweepConnectedAsync()
        {
            try
            {
                foreach (var engine in DockerEngine.Connected())
                {
                    // Not thorough: a deadline that another process shortened is PID 1's to keep, not worth reading
                    // every sandbox's deadline file for every few seconds.
                    try { await SweepAsync(new SandboxManager(engine), thorough: false, CancellationToken.None).ConfigureAwait(false); }
                    catch (Exception) { /* that engine is down; the others still get swept */ }
                }
            }
            finally { Interlocked.Exchange(ref _sweeping, 0); }
        }

        // Set-Sandbox in another process moves the deadline file, not this process's object: read it shortly before
        // the deadline (not at it, so that the removal itself never waits for the read).
        async Task ReadMovedDeadlineAsync(Tracked tracked)
        {
            try
            {
                var engine = await DockerEngine.ConnectAsync(tracked.Endpoint, CancellationToken.None).ConfigureAwait(false);
                var (moved, deadline) = await new SandboxManager(engine).ReadDeadlineFileAsync(tracked.Sandbox.Id, CancellationToken.None).ConfigureAwait(false);
                // The file holds whole seconds rounded up: within a second of what this process knows is no move.
                if (!moved || (deadline is DateTime d && tracked.Sandbox.ExpiresAt is DateTime known && Math.Abs((d - known).TotalSeconds) <= 1)) return;
                tracked.Sandbox.ExpiresAt = deadline;
                DeadlineOverrides.Set(tracked.Sandbox.Id, deadline);
                if (deadline == null) _tracked.TryRemove(tracked.Sandbox.Id, out _);
            }
            catch (Exception) { /* the deadline stands as it was */ }
        }

        async Task RemoveExpiredAsync(Tracked tracked)
        {
            try
            {
                var engine = await DockerEngine.ConnectAsync(tracked.Endpoint, CancellationToken.None).ConfigureAwait(false);
                await new SandboxManager(engine).RemoveAsync(tracked.Sandbox, CancellationToken.None).ConfigureAwait(false);
                if (_tracked.TryRemove(tracked.Sandbox.Id, out _)) Expired?.Invoke(tracked.Sandbox);
            }
            catch (Exception) { /* kept tracked: retried next tick */ }
            finally { _removing.TryRemove(tracked.Sandbox.Id, out _); }
        }

        /// <summary>
        /// Removes every sandbox on the engine whose deadline has passed, whoever made it; returns them. Thorough: also
        /// those whose deadline another process shortened (reads every running sandbox's deadline file).
        /// </summary>
        public async Task<Sandbox[]> SweepAsync(SandboxManager manager, bool thorough, CancellationToken cancel)
        {
            var expired = thorough
                ? await manager.ListExpiredAsync(cancel).ConfigureAwait(false)
                : (await manager.ListAsync(cancel).ConfigureAwait(false)).Where(s => s.IsExpired).ToArray();
            var mine = expired.Where(s => _removing.TryAdd(s.Id, 0)).ToArray();
            try
            {
                await Task.WhenAll(mine.Select(async sandbox =>
                {
                    await manager.RemoveAsync(sandbox, cancel).ConfigureAwait(false);
                    if (_tracked.TryRemove(sandbox.Id, out _)) Expired?.Invoke(sandbox);
                })).ConfigureAwait(false);
            }
            finally
            {
                foreach (var sandbox in mine) _removing.TryRemove(sandbox.Id, out _);
            }
            await manager.PruneDeadlineVolumesAsync(cancel).ConfigureAwait(false);
            return expired;
        }

        public void Dispose()
        {
            _disposed = true;
            _timer.Dispose();
            _tracked.Clear();
        }
    }
}
