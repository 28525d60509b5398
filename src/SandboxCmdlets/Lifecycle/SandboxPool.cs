using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet.Models;
using Sandbox.Endpoints;

namespace Sandbox.Lifecycle
{
    /// <summary>
    /// N started sandboxes of one image and one set of settings, waiting for New-Sandbox. Members wait under the pool's
    /// idle deadline (PID 1 ends them at it, so a killed PowerShell leaks none for longer) and are replaced before it.
    /// Each member waits with its deadline writer made, so that taking one costs a single engine call: writing the
    /// caller's deadline (from take time) into the file PID 1 watches, before New-Sandbox returns. Refills run on the
    /// thread pool, never call PowerShell, and keep their errors in <see cref="LastError"/>.
    /// </summary>
    public sealed class SandboxPool
    {
        const int MaxParallelFills = 2;
        static readonly TimeSpan MaintenancePeriod = TimeSpan.FromSeconds(1);
        static readonly TimeSpan LivenessPeriod = TimeSpan.FromSeconds(5);
        static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);
        static readonly TimeSpan RefillDelay = TimeSpan.FromMilliseconds(100);

        internal sealed class Member
        {
            public Sandbox Sandbox = null!;
            public DateTime IdleDeadline;
            /// <summary>What writes this member's deadline file when it is taken.</summary>
            public DeadlineWriter Writer = null!;
        }

        /// <summary>How often a hand-over is tried before the member is given up and New-Sandbox makes a fresh sandbox.</summary>
        static readonly TimeSpan[] HandoverRetryDelays = { TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300) };

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
        /// <summary>The swarm manager the pool's members are placed through; null for a pool on one engine.</summary>
        public string? Cluster => Endpoint.IsCluster ? Endpoint.Host : null;
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
        /// A member is handed out only with this much of its idle deadline left, so that its new deadline file lands well
        /// before PID 1 acts on the old deadline.
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
            ImageOrigin = _template.ImageOrigin,
            WorkingDirectory = _template.WorkingDirectory,
            TimeoutSec = (int)IdleTimeout.TotalSeconds,
            Limits = _template.Limits,
            NetworkMode = _template.NetworkMode,
            Environment = _template.Environment,
            User = _template.User,
            ReadOnlyRoot = _template.ReadOnlyRoot,
            Runtime = _template.Runtime,
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
            DeadlineWriter writer;
            try
            {
                // Never cancelled: a create cut off mid-call can leave a container the pool never learns of. Stopping
                // waits for it instead, and removes what it made.
                var backend = await SandboxBackends.ConnectAsync(Endpoint, CancellationToken.None).ConfigureAwait(false);
                created = await backend.CreateAsync(NewMemberSpec(), null, null, CancellationToken.None).ConfigureAwait(false);
                try
                {
                    var deadlines = await backend.DeadlinesAsync(created, CancellationToken.None).ConfigureAwait(false);
                    writer = await deadlines.CreateWriterAsync(created, findLocalFolder: true, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    try { await backend.RemoveAsync(created, CancellationToken.None).ConfigureAwait(false); }
                    catch (Exception) { /* the writer's error is the one to record; the member carries labels, so a sweep finds it */ }
                    throw;
                }
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
                if (kept) _waiting.Add(new Member { Sandbox = created, IdleDeadline = created.ExpiresAt ?? DateTime.MaxValue, Writer = writer });
            }
            if (!kept) await RemoveQuietlyAsync(new Member { Sandbox = created, Writer = writer }).ConfigureAwait(false);
            else Fill();
        }

        void RecordError(string message)
        {
            LastError = message;
            LastErrorAt = DateTime.UtcNow;
        }

        /// <summary>A waiting member, out of the pool; null when none is ready. <see cref="HandOverAsync"/> gives it its deadline.</summary>
        internal Member? TryTake()
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
            Interlocked.Increment(ref _taken);
            // A moment later, so that on a busy machine the refill's CPU work does not delay the caller's take.
            Task.Delay(RefillDelay).ContinueWith(_ => Fill(), TaskScheduler.Default);
            return member;
        }

        /// <summary>
        /// Writes the taken member's deadline, <paramref name="timeoutSec"/> from <paramref name="takenAt"/>, into the file its
        /// PID 1 watches, asking again if the engine fails. Returns null when done; otherwise the member is removed and the
        /// reason returned, so that New-Sandbox makes a fresh sandbox instead of returning one that would die at the
        /// pool's idle deadline.
        /// </summary>
        internal async Task<string?> HandOverAsync(Member member, int timeoutSec, DateTime takenAt, CancellationToken cancel)
        {
            var sandbox = member.Sandbox;
            var backend = await SandboxBackends.ConnectAsync(Endpoint, CancellationToken.None).ConfigureAwait(false);
            var deadlines = await backend.DeadlinesAsync(sandbox, CancellationToken.None).ConfigureAwait(false);
            string? failure = null;
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await deadlines.MoveAsync(sandbox, timeoutSec, takenAt, member.Writer, CancellationToken.None).ConfigureAwait(false);
                    sandbox.InPool = false;
                    failure = null;
                    break;
                }
                catch (Exception e) { failure = SandboxException.FromUnexpected(e).Message; }
                if (attempt >= HandoverRetryDelays.Length || cancel.IsCancellationRequested) break;
                await Task.Delay(HandoverRetryDelays[attempt]).ConfigureAwait(false);
            }
            if (failure != null)
            {
                failure = $"Could not hand over '{sandbox.Name}' from pool '{Name}' (tried {HandoverRetryDelays.Length + 1} times): {failure}";
                RecordError(failure);
            }
            // The writer's work is done either way; removing it is not the caller's wait.
            _ = failure == null ? deadlines.RemoveWriterQuietlyAsync(member.Writer) : RemoveQuietlyAsync(member);
            return failure;
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
            await Task.WhenAll(retired.Select(RemoveQuietlyAsync)).ConfigureAwait(false);
            if (checkLiveness) await ForgetVanishedAsync().ConfigureAwait(false);
            Fill();
        }

        async Task ForgetVanishedAsync()
        {
            var backend = await SandboxBackends.ConnectAsync(Endpoint, CancellationToken.None).ConfigureAwait(false);
            var list = await backend.ListAsync(CancellationToken.None).ConfigureAwait(false);
            var alive = new HashSet<string>(list.Where(s => s.Pool == Name && s.EngineState == "running").Select(s => s.Id));
            lock (_gate) _waiting.RemoveAll(m => !alive.Contains(m.Sandbox.Id));
        }

        async Task RemoveQuietlyAsync(Member member)
        {
            try
            {
                var backend = await SandboxBackends.ConnectAsync(Endpoint, CancellationToken.None).ConfigureAwait(false);
                var deadlines = await backend.DeadlinesAsync(member.Sandbox, CancellationToken.None).ConfigureAwait(false);
                await backend.RemoveAsync(member.Sandbox, CancellationToken.None).ConfigureAwait(false);
                await deadlines.RemoveWriterQuietlyAsync(member.Writer).ConfigureAwait(false);
            }
            catch (Exception e) { RecordError($"Could not remove '{member.Sandbox.Name}' of pool '{Name}' (PID 1 ends it at its idle deadline): {SandboxException.FromUnexpected(e).Message}"); }
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
            await Task.WhenAll(waiting.Select(RemoveQuietlyAsync)).ConfigureAwait(false);
            // A fill that finishes now sees the pool stopped and removes what it started.
            await Task.WhenAll(fills).ConfigureAwait(false);
        }

        public override string ToString() => Name;
    }
}
