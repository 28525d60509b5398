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
        }

        readonly ConcurrentDictionary<string, Tracked> _tracked = new ConcurrentDictionary<string, Tracked>();
        readonly Timer _timer;
        readonly TimeSpan _period;
        int _busy;
        DateTime _lastSweep = DateTime.MinValue;
        bool _disposed;

        /// <summary>Raised on a thread-pool thread after an expired sandbox was removed (or found already gone).</summary>
        public event Action<Sandbox>? Expired;

        public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

        static readonly TimeSpan ExpiryGrace = TimeSpan.FromMilliseconds(300);

        CleanupEngine(TimeSpan period)
        {
            _period = period;
            _timer = new Timer(_ => Tick(), null, period, period);
        }

        public void Track(Sandbox sandbox, DockerEndpoint endpoint)
        {
            if (sandbox.ExpiresAt == null) { Untrack(sandbox.Id); return; }
            _tracked[sandbox.Id] = new Tracked { Sandbox = sandbox, Endpoint = endpoint };
        }

        public void Untrack(string id) => _tracked.TryRemove(id, out _);

        public int TrackedCount => _tracked.Count;

        void Tick()
        {
            if (_disposed || Interlocked.Exchange(ref _busy, 1) == 1) return;
            try { TickAsync().GetAwaiter().GetResult(); }
            catch (Exception) { /* an engine outage: try again next tick */ }
            finally { Interlocked.Exchange(ref _busy, 0); }
        }

        async Task TickAsync()
        {
            var now = DateTime.UtcNow;
            // A moment's grace: the engine's clock and creation time are only so exact, and a sandbox must never go early.
            var due = _tracked.Values.Where(t => t.Sandbox.ExpiresAt + ExpiryGrace <= now).ToList();
            await Task.WhenAll(due.Select(RemoveExpiredAsync)).ConfigureAwait(false);

            if (now - _lastSweep < SweepInterval) return;
            _lastSweep = now;
            foreach (var engine in DockerEngine.Connected())
            {
                try { await SweepAsync(new SandboxManager(engine), CancellationToken.None).ConfigureAwait(false); }
                catch (Exception) { /* that engine is down; the others still get swept */ }
            }
        }

        async Task RemoveExpiredAsync(Tracked tracked)
        {
            try
            {
                var engine = await DockerEngine.ConnectAsync(tracked.Endpoint, CancellationToken.None).ConfigureAwait(false);
                await new SandboxManager(engine).RemoveAsync(tracked.Sandbox, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception) { return; /* kept tracked: retried next tick */ }
            if (_tracked.TryRemove(tracked.Sandbox.Id, out _)) Expired?.Invoke(tracked.Sandbox);
        }

        /// <summary>Removes every sandbox on the engine whose expiry label has passed, whoever made it; returns them.</summary>
        public async Task<Sandbox[]> SweepAsync(SandboxManager manager, CancellationToken cancel)
        {
            var expired = await manager.ListExpiredAsync(cancel).ConfigureAwait(false);
            foreach (var sandbox in expired)
            {
                await manager.RemoveAsync(sandbox, cancel).ConfigureAwait(false);
                if (_tracked.TryRemove(sandbox.Id, out _)) Expired?.Invoke(sandbox);
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
