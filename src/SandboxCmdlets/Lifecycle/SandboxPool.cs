using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet.Models;
using Sandbox.Endpoints;

namespace Sandbox.Lifecycle
{
    /// <summary>Which New-Sandbox settings a pooled sandbox can serve, and the key that says two settings are the same.</summary>
    public static class PoolSettings
    {
        /// <summary>
        /// Why a sandbox with these settings cannot come from a pool, or null when it can. A name, a project, code and
        /// published ports are fixed when a container is created; the timeout is not (it is set when a member is taken).
        /// </summary>
        public static string? WhyNotPoolable(SandboxSpec spec)
        {
            if (spec.Name != null) return "-Name";
            if (spec.ProjectId != null) return "-ProjectId";
            if (spec.CodePath != null) return "-Path";
            if (spec.Ports.Count > 0) return "-Port";
            return null;
        }

        /// <summary>Equal for two specs exactly when a container started for one serves the other (timeout aside).</summary>
        public static string Key(DockerEndpoint endpoint, SandboxSpec spec)
        {
            var l = spec.Limits;
            var parts = new List<string>
            {
                endpoint.CacheKey, NormalizeImage(spec.Image), spec.WorkingDirectory, spec.NetworkMode, spec.User ?? "", spec.ReadOnlyRoot ? "ro" : "rw",
                Invariant(l.Memory), Invariant(l.MemorySwap), Invariant(l.MemoryReservation), Invariant(l.MemorySwappiness), Invariant(l.NanoCpus),
                Invariant(l.CpuQuota), Invariant(l.CpuPeriod), Invariant(l.CpuShares), l.CpusetCpus ?? "", l.CpusetMems ?? "", Invariant(l.PidsLimit),
                Invariant(l.ShmSize), Invariant(l.BlkioWeight), Invariant(l.OomKillDisable),
            };
            parts.AddRange(l.StorageOpt.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"storage:{kv.Key}={kv.Value}"));
            parts.AddRange(l.Ulimits.Select(u => $"ulimit:{u.Name}={Invariant(u.Soft)}:{Invariant(u.Hard)}").OrderBy(u => u, StringComparer.Ordinal));
            parts.AddRange(spec.Environment.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"env:{kv.Key}={kv.Value}"));
            // Length-prefixed, so that no value (an environment value may hold anything) can run into the next.
            var key = new StringBuilder();
            foreach (var part in parts) key.Append(part.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(part).Append(';');
            return key.ToString();
        }

        /// <summary>busybox and busybox:latest are one image; a digest or an explicit tag stays as written.</summary>
        public static string NormalizeImage(string image)
        {
            if (image.IndexOf('@') >= 0) return image;
            return image.LastIndexOf(':') > image.LastIndexOf('/') ? image : image + ":latest";
        }

        static string Invariant(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
    }

    /// <summary>
    /// N started sandboxes of one image and one set of settings, waiting for New-Sandbox. Members wait under the pool's
    /// idle deadline (PID 1 ends them at it, so a killed PowerShell leaks none for longer) and are replaced before it;
    /// taking one costs no engine call: the caller's deadline starts at take time. Refills run on the thread pool, never
    /// call PowerShell, and keep their errors in <see cref="LastError"/>.
    /// </summary>
    public sealed class SandboxPool
    {
        const int MaxParallelFills = 2;
        static readonly TimeSpan MaintenancePeriod = TimeSpan.FromSeconds(1);
        static readonly TimeSpan LivenessPeriod = TimeSpan.FromSeconds(5);
        static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);
        static readonly TimeSpan RefillDelay = TimeSpan.FromMilliseconds(100);

        sealed class Member
        {
            public Sandbox Sandbox = null!;
            public DateTime IdleDeadline;
        }

        readonly object _gate = new object();
        readonly List<Member> _waiting = new List<Member>();
        readonly List<Task> _fills = new List<Task>();
        readonly SandboxSpec _template;
        readonly Timer _timer;
        int _filling;
        long _taken;
        int _failures;
        int _maintaining;
        DateTime _retryAfter = DateTime.MinValue;
        DateTime _lastLivenessCheck = DateTime.UtcNow;
        bool _stopped;

        public string Name { get; }
        public string Image => _template.Image;
        public int Size { get; }
        public string DockerHost => Endpoint.Host;
        public TimeSpan IdleTimeout { get; }
        public int Ready { get { lock (_gate) return _waiting.Count; } }
        public int Filling { get { lock (_gate) return _filling; } }
        public long Taken => Interlocked.Read(ref _taken);
        public string State { get { lock (_gate) return _stopped ? "Stopped" : "Running"; } }
        public string? LastError { get; private set; }
        public DateTime? LastErrorAt { get; private set; }
        /// <summary>The sandboxes waiting now.</summary>
        public Sandbox[] Members { get { lock (_gate) return _waiting.Select(m => m.Sandbox).ToArray(); } }

        internal DockerEndpoint Endpoint { get; }
        internal string Key { get; }
        /// <summary>How many refills have failed so far; Start-SandboxPool -Wait watches it.</summary>
        internal int FailureCount { get { lock (_gate) return _failures; } }

        /// <summary>
        /// A member is handed out only with this much of its idle deadline left: its new deadline file is written after
        /// the hand-over, and must land before PID 1 acts on the old deadline.
        /// </summary>
        TimeSpan HandoverMargin => TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(30).Ticks, IdleTimeout.Ticks / 3));

        internal SandboxPool(string name, DockerEndpoint endpoint, SandboxSpec template, int size, TimeSpan idleTimeout)
        {
            Name = name;
            Endpoint = endpoint;
            Size = size;
            IdleTimeout = idleTimeout;
            _template = template;
            Key = PoolSettings.Key(endpoint, template);
            _timer = new Timer(_ => Maintain(), null, MaintenancePeriod, MaintenancePeriod);
        }

        SandboxSpec NewMemberSpec() => new SandboxSpec
        {
            Image = _template.Image,
            WorkingDirectory = _template.WorkingDirectory,
            TimeoutSec = (int)IdleTimeout.TotalSeconds,
            Limits = _template.Limits,
            NetworkMode = _template.NetworkMode,
            Environment = _template.Environment,
            User = _template.User,
            ReadOnlyRoot = _template.ReadOnlyRoot,
            Pool = Name,
        };

        /// <summary>Starts refills up to the pool's size, at most <see cref="MaxParallelFills"/> at once.</summary>
        internal void Fill()
        {
            lock (_gate)
            {
                if (_stopped || DateTime.UtcNow < _retryAfter) return;
                while (_waiting.Count + _filling < Size && _filling < MaxParallelFills)
                {
                    _filling++;
                    var fill = Task.Run(FillOneAsync);
                    _fills.Add(fill);
                    fill.ContinueWith(t => { lock (_gate) _fills.Remove(t); }, TaskScheduler.Default);
                }
            }
        }

        async Task FillOneAsync()
        {
            Sandbox created;
            try
            {
                // Never cancelled: a create cut off mid-call can leave a container the pool never learns of. Stopping
                // waits for it instead, and removes what it made.
                var manager = await SandboxManager.ConnectAsync(Endpoint, CancellationToken.None).ConfigureAwait(false);
                created = await manager.CreateAsync(NewMemberSpec(), null, null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                lock (_gate)
                {
                    _filling--;
                    if (_stopped) return;
                    _failures++;
                    // Doubling waits, so that a pool whose image or settings cannot start does not hammer the engine.
                    var delay = TimeSpan.FromSeconds(Math.Min(MaxRetryDelay.TotalSeconds, Math.Pow(2, Math.Min(_failures, 10) - 1)));
                    _retryAfter = DateTime.UtcNow + delay;
                    RecordError($"Could not start a sandbox for pool '{Name}': {SandboxException.FromUnexpected(e).Message}");
                }
                return;
            }

            created.InPool = true;
            bool kept;
            lock (_gate)
            {
                _filling--;
                kept = !_stopped;
                if (kept) _waiting.Add(new Member { Sandbox = created, IdleDeadline = created.ExpiresAt ?? DateTime.MaxValue });
            }
            if (!kept) await RemoveQuietlyAsync(created).ConfigureAwait(false);
            else Fill();
        }

        void RecordError(string message)
        {
            LastError = message;
            LastErrorAt = DateTime.UtcNow;
        }

        /// <summary>Hands out a waiting member with <paramref name="timeoutSec"/> from now as its deadline; null when none is ready.</summary>
        internal Sandbox? TryTake(int timeoutSec)
        {
            Member? member = null;
            lock (_gate)
            {
                if (_stopped) return null;
                var now = DateTime.UtcNow;
                var index = _waiting.FindIndex(m => m.IdleDeadline - now > HandoverMargin);
                if (index >= 0)
                {
                    member = _waiting[index];
                    _waiting.RemoveAt(index);
                }
            }
            if (member == null) { Fill(); return null; }

            var takenAt = DateTime.UtcNow;
            var sandbox = member.Sandbox;
            sandbox.InPool = false;
            sandbox.TimeoutSec = timeoutSec;
            sandbox.ExpiresAt = timeoutSec > 0 ? takenAt.AddSeconds(timeoutSec) : (DateTime?)null;
            // From here this process's cleanup engine enforces the new deadline; the file PID 1 watches follows in the
            // background (a helper container, hundreds of milliseconds), with the idle deadline as the backstop meanwhile.
            DeadlineOverrides.Set(sandbox.Id, sandbox.ExpiresAt);
            Interlocked.Increment(ref _taken);
            SandboxPools.BeginHandover(sandbox.Id, Task.Run(() => WriteTakenDeadlineAsync(sandbox, takenAt, timeoutSec)));
            // A moment later, so that on a busy machine the refill's CPU work does not delay the caller's take.
            Task.Delay(RefillDelay).ContinueWith(_ => Fill(), TaskScheduler.Default);
            return sandbox;
        }

        async Task WriteTakenDeadlineAsync(Sandbox sandbox, DateTime takenAt, int timeoutSec)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var manager = await SandboxManager.ConnectAsync(Endpoint, CancellationToken.None).ConfigureAwait(false);
                    DateTime? deadline = null;
                    if (timeoutSec > 0)
                    {
                        // The file holds the engine's clock (rounded up, so that PID 1 never acts before the deadline).
                        var engineTakenAt = Endpoint.IsLocal ? takenAt
                            : (await manager.EngineClockAsync(CancellationToken.None).ConfigureAwait(false)) - (DateTime.UtcNow - takenAt);
                        deadline = engineTakenAt.AddSeconds(timeoutSec);
                    }
                    await manager.WriteDeadlineFileAsync(sandbox, deadline, CancellationToken.None).ConfigureAwait(false);
                    return;
                }
                catch (SandboxException e) when (e.ErrorId == "SandboxNotFound") { return; }
                catch (Exception e)
                {
                    RecordError($"Could not move the deadline of '{sandbox.Name}' (taken from pool '{Name}'), attempt {attempt}: {SandboxException.FromUnexpected(e).Message}");
                    if (attempt == 3) return;
                    await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt)).ConfigureAwait(false);
                }
            }
        }

        internal bool IsWaiting(string id)
        {
            lock (_gate) return _waiting.Any(m => m.Sandbox.Id == id);
        }

        /// <summary>A member removed by someone else (Stop-Sandbox -All) must not be handed out.</summary>
        internal void Forget(string id)
        {
            lock (_gate) _waiting.RemoveAll(m => m.Sandbox.Id == id);
        }

        /// <summary>Retires members near their idle deadline, forgets members removed behind the pool's back, and refills.</summary>
        void Maintain()
        {
            if (Interlocked.Exchange(ref _maintaining, 1) == 1) return;
            try { MaintainAsync().GetAwaiter().GetResult(); }
            catch (Exception e) { RecordError($"Pool '{Name}' could not check its members: {SandboxException.FromUnexpected(e).Message}"); }
            finally { Interlocked.Exchange(ref _maintaining, 0); }
        }

        async Task MaintainAsync()
        {
            List<Member> retired;
            var checkLiveness = false;
            lock (_gate)
            {
                if (_stopped) return;
                var now = DateTime.UtcNow;
                retired = _waiting.Where(m => m.IdleDeadline - now <= HandoverMargin).ToList();
                _waiting.RemoveAll(retired.Contains);
                if (_waiting.Count > 0 && now - _lastLivenessCheck >= LivenessPeriod)
                {
                    checkLiveness = true;
                    _lastLivenessCheck = now;
                }
            }
            await Task.WhenAll(retired.Select(m => RemoveQuietlyAsync(m.Sandbox))).ConfigureAwait(false);
            if (checkLiveness) await ForgetVanishedAsync().ConfigureAwait(false);
            Fill();
        }

        async Task ForgetVanishedAsync()
        {
            var manager = await SandboxManager.ConnectAsync(Endpoint, CancellationToken.None).ConfigureAwait(false);
            var list = await manager.Engine.Client.Containers.ListContainersAsync(new ContainersListParameters
            {
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["label"] = new Dictionary<string, bool> { [$"{SandboxLabels.Pool}={Name}"] = true },
                    ["status"] = new Dictionary<string, bool> { ["running"] = true },
                },
            }, CancellationToken.None).ConfigureAwait(false);
            var alive = new HashSet<string>(list.Select(c => c.ID));
            lock (_gate) _waiting.RemoveAll(m => !alive.Contains(m.Sandbox.Id));
        }

        async Task RemoveQuietlyAsync(Sandbox sandbox)
        {
            try
            {
                var manager = await SandboxManager.ConnectAsync(Endpoint, CancellationToken.None).ConfigureAwait(false);
                await manager.RemoveAsync(sandbox, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception) { /* PID 1 ends it at its idle deadline anyway */ }
        }

        /// <summary>Stops refilling and removes the waiting members (and those still starting); taken sandboxes stay.</summary>
        internal async Task StopAsync()
        {
            List<Member> waiting;
            Task[] fills;
            lock (_gate)
            {
                if (_stopped) return;
                _stopped = true;
                waiting = _waiting.ToList();
                _waiting.Clear();
                fills = _fills.ToArray();
            }
            _timer.Dispose();
            await Task.WhenAll(waiting.Select(m => RemoveQuietlyAsync(m.Sandbox))).ConfigureAwait(false);
            // A fill that finishes now sees the pool stopped and removes what it started.
            await Task.WhenAll(fills).ConfigureAwait(false);
        }

        public override string ToString() => Name;
    }

    /// <summary>The process's warm pools, which New-Sandbox asks before it creates a sandbox.</summary>
    public static class SandboxPools
    {
        static readonly object Gate = new object();
        static readonly List<SandboxPool> Pools = new List<SandboxPool>();
        static bool _stopsAtExit;
        static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> Handovers =
            new System.Collections.Concurrent.ConcurrentDictionary<string, Task>();

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

        /// <summary>A waiting member of a pool whose settings match, now with the caller's timeout; null when there is none.</summary>
        public static Sandbox? TryTake(DockerEndpoint endpoint, SandboxSpec spec)
        {
            var pools = All;
            if (pools.Length == 0 || PoolSettings.WhyNotPoolable(spec) != null) return null;
            var key = PoolSettings.Key(endpoint, spec);
            foreach (var pool in pools.Where(p => p.Key == key))
            {
                var sandbox = pool.TryTake(spec.TimeoutSec);
                if (sandbox != null) return sandbox;
            }
            return null;
        }

        public static bool IsWaitingHere(string id) => All.Any(p => p.IsWaiting(id));

        public static void Forget(string id)
        {
            foreach (var pool in All) pool.Forget(id);
        }

        internal static void BeginHandover(string id, Task handover)
        {
            Handovers[id] = handover;
            handover.ContinueWith(_ => ((ICollection<KeyValuePair<string, Task>>)Handovers).Remove(new KeyValuePair<string, Task>(id, handover)), TaskScheduler.Default);
        }

        /// <summary>Completes when a just-taken sandbox's deadline file has been written (at once for any other sandbox).</summary>
        public static async Task HandoverFinishedAsync(string id)
        {
            if (Handovers.TryGetValue(id, out var handover))
                await handover.ConfigureAwait(false);
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
            var stopping = Task.WhenAll(pools.Select(p => p.StopAsync()).Concat(Handovers.Values));
            try { stopping.Wait(bound); }
            catch (AggregateException) { /* the rest end at their idle deadline */ }
        }
    }
}
