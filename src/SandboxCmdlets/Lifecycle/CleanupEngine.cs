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
    /// It never calls user code; it raises <see cref="Expired"/> and <see cref="Problem"/>, and the PowerShell layer turns
    /// them into hooks, events and warnings on the owning runspaces.
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
            public int Failures;
            public DateTime NotBefore = DateTime.MinValue;
        }

        /// <summary>After this many failed tries in a row a removal is reported; it is still tried, less often.</summary>
        const int FailuresBeforeReport = 3;
        static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

        readonly ConcurrentDictionary<string, Tracked> _tracked = new ConcurrentDictionary<string, Tracked>();
        /// <summary>Sandboxes whose removal is under way, so that a slow removal never holds up another or runs twice.</summary>
        readonly ConcurrentDictionary<string, byte> _removing = new ConcurrentDictionary<string, byte>();
        /// <summary>Sandboxes whose unreadable deadline was reported, so that a sweep every few seconds says it once.</summary>
        readonly BoundedIdSet _reportedUnknown = new BoundedIdSet(1024);
        readonly Timer _timer;
        int _sweeping;
        DateTime _lastSweep = DateTime.MinValue;
        bool _disposed;

        /// <summary>Raised on a thread-pool thread after an expired sandbox was removed (or found already gone).</summary>
        public event Action<Sandbox>? Expired;

        /// <summary>Raised on a thread-pool thread after a sandbox this process made was removed because its node went down.</summary>
        public event Action<Sandbox>? Lost;

        /// <summary>Raised on a thread-pool thread when a removal keeps failing or a deadline cannot be read.</summary>
        public event Action<CleanupProblem>? Problem;

        public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

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
            foreach (var tracked in _tracked.Values)
            {
                if (!(SandboxDeadlines.BackstopAt(tracked.Sandbox) is DateTime due) || due > now || tracked.NotBefore > now) continue;
                if (_removing.TryAdd(tracked.Sandbox.Id, 0)) _ = RemoveExpiredAsync(tracked);
            }

            if (now - _lastSweep < SweepInterval || Interlocked.Exchange(ref _sweeping, 1) == 1) return;
            _lastSweep = now;
            _ = Task.Run(SweepConnectedAsync);
        }

        async Task SweepConnectedAsync()
        {
            try
            {
                var backends = DockerEngine.Connected().Select(engine => (Func<Task<ISandboxBackend>>)(() => Task.FromResult<ISandboxBackend>(new SandboxManager(engine))))
                    .Concat(Cluster.SwarmBackend.Connected().Select(cluster => (Func<Task<ISandboxBackend>>)(() => SandboxBackends.ConnectAsync(cluster, CancellationToken.None))));
                foreach (var connect in backends)
                {
                    // Not thorough: a deadline that another process shortened is PID 1's to keep, not worth reading
                    // every sandbox's deadline file for every few seconds.
                    try { await SweepAsync(await connect().ConfigureAwait(false), thorough: false, CancellationToken.None).ConfigureAwait(false); }
                    catch (Exception) { /* that engine is down: the next call to it says so; the others still get swept */ }
                }
            }
            finally { Interlocked.Exchange(ref _sweeping, 0); }
        }

        /// <summary>
        /// At the deadline this process knows, the deadline file has the last word (another process may have moved it);
        /// a file that cannot be read keeps the sandbox, and the removal is tried again.
        /// </summary>
        async Task RemoveExpiredAsync(Tracked tracked)
        {
            var sandbox = tracked.Sandbox;
            try
            {
                var backend = await SandboxBackends.ForAsync(sandbox, tracked.Endpoint, CancellationToken.None).ConfigureAwait(false);
                var known = sandbox.ExpiresAt;
                var deadlines = await backend.DeadlinesAsync(sandbox, CancellationToken.None).ConfigureAwait(false);
                var read = await deadlines.RefreshAsync(sandbox, CancellationToken.None).ConfigureAwait(false);
                if (read.State == DeadlineFileState.Unreadable)
                {
                    Failed(tracked, $"Sandbox '{sandbox.Name}' is past the deadline this process knows, but its deadline file could not be read ({read.Error}); it is kept until the deadline is known.");
                    return;
                }
                if (sandbox.ExpiresAt != known)
                {
                    if (sandbox.ExpiresAt == null) Untrack(sandbox.Id);
                    return;
                }
                await backend.RemoveAsync(sandbox, CancellationToken.None).ConfigureAwait(false);
                Expired?.Invoke(sandbox);
            }
            catch (Exception) when (!_tracked.ContainsKey(sandbox.Id)) { /* removed meanwhile by someone else, who reported it */ }
            catch (Exception e)
            {
                Failed(tracked, $"Sandbox '{sandbox.Name}' expired, but could not be removed: {SandboxException.FromUnexpected(e).Message}");
            }
            finally { _removing.TryRemove(sandbox.Id, out _); }
        }

        void Failed(Tracked tracked, string message)
        {
            var failures = Interlocked.Increment(ref tracked.Failures);
            tracked.NotBefore = DateTime.UtcNow + TimeSpan.FromSeconds(Math.Min(MaxRetryDelay.TotalSeconds, Math.Pow(2, failures - 1) * 0.25));
            if (failures == FailuresBeforeReport) Problem?.Invoke(new CleanupProblem(CleanupProblem.RemovalFailing, tracked.Sandbox, $"{message} Tried {failures} times; still trying."));
        }

        /// <summary>
        /// Removes every sandbox on the engine (or cluster) that is due (<see cref="SandboxDeadlines.IsDueForBackstop"/>), whoever made it; returns them.
        /// Thorough: also those whose deadline another process shortened (reads every running sandbox's deadline file).
        /// A sandbox whose deadline file cannot be read is never removed; it is reported instead.
        /// </summary>
        public async Task<Sandbox[]> SweepAsync(ISandboxBackend backend, bool thorough, CancellationToken cancel)
        {
            Sandbox[] expired, unknown;
            if (thorough) (expired, unknown) = await backend.ListExpiredAsync(cancel).ConfigureAwait(false);
            else
            {
                var list = await backend.ListAsync(cancel).ConfigureAwait(false);
                expired = list.Where(SandboxDeadlines.IsOver).ToArray();
                unknown = list.Where(s => s.DeadlineUnknown).ToArray();
            }
            var now = DateTime.UtcNow;
            expired = expired.Where(s => SandboxDeadlines.IsDueForBackstop(s, now)).ToArray();
            foreach (var sandbox in unknown.Where(s => _reportedUnknown.Add(s.Id)))
                Problem?.Invoke(new CleanupProblem(CleanupProblem.DeadlineUnreadable, sandbox,
                    $"The deadline file of sandbox '{sandbox.Name}' could not be read, so it is not removed although its first deadline has passed."));

            var mine = expired.Where(s => _removing.TryAdd(s.Id, 0)).ToArray();
            try
            {
                await Task.WhenAll(mine.Select(async sandbox =>
                {
                    // Only sandboxes this process made (and tracks) are announced here: their makers hear of their end.
                    var madeHere = _tracked.ContainsKey(sandbox.Id);
                    await backend.RemoveAsync(sandbox, cancel).ConfigureAwait(false);
                    if (madeHere && sandbox.EngineState == "lost") Lost?.Invoke(sandbox);
                    else if (madeHere) Expired?.Invoke(sandbox);
                })).ConfigureAwait(false);
            }
            finally
            {
                foreach (var sandbox in mine) _removing.TryRemove(sandbox.Id, out _);
            }
            await backend.PruneLeftoversAsync(cancel).ConfigureAwait(false);
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
