using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>
    /// Runs engine work off the pipeline thread while pumping whatever it posts (output, progress) back onto it,
    /// and cancels that work when the user presses Ctrl+C.
    /// </summary>
    public abstract class SandboxCmdletBase : PSCmdlet, IDisposable
    {
        readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        BlockingCollection<Action>? _pipelineQueue;

        const int PipelineQueueCapacity = 4096;

        protected CancellationToken Cancellation => _cancel.Token;

        protected override void StopProcessing()
        {
            _stopRequested = true;
            _cancel.Cancel();
        }

        /// <summary>
        /// Every runspace that uses the module hears Sandbox.Stopped and Sandbox.Expired, and sees what the cleanup engine
        /// could not do since the last command.
        /// </summary>
        protected override void BeginProcessing()
        {
            Hosting.SandboxHooks.Attach(Events);
            foreach (var warning in Hosting.SandboxHooks.TakeWarnings()) WriteWarning(warning);
        }

        /// <summary>
        /// How every cmdlet removes a sandbox: the engine's one removal, then the one announcement (-OnKill, Sandbox.Stopped).
        /// Returns false when it was already gone.
        /// </summary>
        /// <param name="evenOnCtrlC">For clean-up in a finally block: Ctrl+C must not leave the sandbox behind.</param>
        protected bool RemoveSandbox(Sandbox sandbox, ISandboxBackend backend, bool evenOnCtrlC = false)
        {
            var removed = Run(c => backend.RemoveAsync(sandbox, evenOnCtrlC ? CancellationToken.None : c));
            Hosting.SandboxHooks.Removed(sandbox, expired: false, Events, WriteWarning);
            return removed;
        }

        protected T Run<T>(Func<CancellationToken, Task<T>> work) => Finish(Start(work));

        /// <summary>
        /// Starts engine work whose posts the pipeline thread runs whenever it pumps (<see cref="PumpOne"/>, <see cref="PumpQueued"/>)
        /// and finally in <see cref="Finish{T}"/>: for work that outlives one ProcessRecord, such as a command fed from the pipeline.
        /// </summary>
        protected PendingWork<T> Start<T>(Func<CancellationToken, Task<T>> work)
        {
            // Bounded, so that a command printing faster than the pipeline consumes waits instead of filling memory.
            var queue = new BlockingCollection<Action>(PipelineQueueCapacity);
            var pending = new PendingWork<T>(queue, _pipelineQueue);
            _pipelineQueue = queue;
            pending.Task = Task.Run(() => work(_cancel.Token));
            pending.Finished = pending.Task.ContinueWith(_ => queue.CompleteAdding(), TaskScheduler.Default);
            return pending;
        }

        /// <summary>Runs the next thing the work posts, waiting for it; false once the work has finished and left nothing.</summary>
        protected bool PumpOne(PendingWork work) => Pump(work, () =>
        {
            if (!work.Queue.TryTake(out var action, Timeout.Infinite)) return false;
            action();
            return true;
        });

        /// <summary>Runs what the work has posted so far, without waiting for more.</summary>
        protected void PumpQueued(PendingWork work) => Pump(work, () =>
        {
            while (work.Queue.TryTake(out var action)) action();
            return true;
        });

        /// <summary>Runs everything the work posts until it ends, and returns its result.</summary>
        protected T Finish<T>(PendingWork<T> work)
        {
            try { Pump(work, () => { foreach (var action in work.Queue.GetConsumingEnumerable()) action(); return true; }); }
            finally { work.Close(ref _pipelineQueue); }

            try { return work.Task.GetAwaiter().GetResult(); }
            catch (OperationCanceledException) when (_cancel.IsCancellationRequested) { throw new PipelineStoppedException(); }
            catch (Exception e) when (!(e is SandboxException) && !(e is OperationCanceledException) && !(e is PipelineStoppedException))
            {
                throw SandboxException.FromUnexpected(e);
            }
        }

        /// <summary>Stops work that will not be finished (the pipeline ended without EndProcessing): cancels it and waits for its clean-up.</summary>
        protected void Abandon(PendingWork work)
        {
            _cancel.Cancel();
            try { work.Finished.Wait(); } catch (AggregateException) { /* only its end matters here */ }
            work.Close(ref _pipelineQueue);
        }

        bool Pump(PendingWork work, Func<bool> step)
        {
            try { return step(); }
            catch (Exception)
            {
                // The pipeline stopped under the work (Select-Object -First downstream, Ctrl+C, Stop-Job) or a write failed: the
                // work ends as on Ctrl+C, a command inside the sandbox killed and its code file removed, before this thread
                // lets the stop go on and nothing waits for the work any more.
                _cancel.Cancel();
                work.Finished.Wait();
                work.Close(ref _pipelineQueue);
                throw;
            }
        }

        /// <summary>Set when PowerShell stopped this command (Ctrl+C, Stop-Job, PowerShell.Stop), as against a pipeline that ended early downstream.</summary>
        protected bool StopRequested => _stopRequested;
        volatile bool _stopRequested;

        protected abstract class PendingWork
        {
            readonly BlockingCollection<Action>? _previous;
            bool _closed;
            internal BlockingCollection<Action> Queue { get; }
            internal Task Finished { get; set; } = Task.CompletedTask;
            protected PendingWork(BlockingCollection<Action> queue, BlockingCollection<Action>? previous) { Queue = queue; _previous = previous; }
            public bool HasEnded => Finished.IsCompleted && Queue.IsCompleted;

            internal void Close(ref BlockingCollection<Action>? current)
            {
                if (_closed) return;
                _closed = true;
                if (ReferenceEquals(current, Queue)) current = _previous;
                if (Finished.IsCompleted) Queue.Dispose();
            }
        }

        protected sealed class PendingWork<T> : PendingWork
        {
            internal Task<T> Task { get; set; } = null!;
            internal PendingWork(BlockingCollection<Action> queue, BlockingCollection<Action>? previous) : base(queue, previous) { }
        }

        private protected void SetLastExitCode(int code) => SessionState.PSVariable.Set("global:LASTEXITCODE", code);

        protected void Run(Func<CancellationToken, Task> work) => Run<bool>(async c => { await work(c).ConfigureAwait(false); return true; });

        /// <summary>Queues work for the pipeline thread; safe from any thread while <see cref="Run{T}"/> is pumping.</summary>
        protected void Post(Action action)
        {
            var queue = _pipelineQueue;
            if (queue == null || _cancel.IsCancellationRequested) return;
            try { queue.Add(action, _cancel.Token); }
            catch (InvalidOperationException) { /* the work already finished */ }
            catch (OperationCanceledException) { /* Ctrl+C: nobody reads the queue any more */ }
        }

        protected IProgress<T> PipelineProgress<T>(Action<T> handler) => new PostingProgress<T>(this, handler);

        sealed class PostingProgress<T> : IProgress<T>
        {
            readonly SandboxCmdletBase _owner;
            readonly Action<T> _handler;
            public PostingProgress(SandboxCmdletBase owner, Action<T> handler) { _owner = owner; _handler = handler; }
            public void Report(T value) => _owner.Post(() => _handler(value));
        }

        /// <summary>For ssh:// engines: the user and password to log in with, instead of a key.</summary>
        [Parameter]
        [Credential]
        [ValidateNotNull]
        public PSCredential? Credential { get; set; }

        /// <summary>For ssh:// engines: the private key file to log in with, instead of ~/.ssh/id_*.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? SshKeyPath { get; set; }

        protected DockerEndpoint ResolveEndpoint(string? dockerHost) => WithCredentials(EndpointResolver.Default.Resolve(dockerHost));

        /// <summary>
        /// Where sandboxes are made or looked for: a swarm (-Cluster, else $env:SANDBOX_CLUSTER unless -DockerHost is given) or
        /// one engine (-DockerHost, DOCKER_HOST, the Docker context, the default socket).
        /// </summary>
        protected DockerEndpoint ResolvePlace(string? dockerHost, string? cluster, IDictionary? nodeEndpoint)
        {
            if (dockerHost != null && cluster != null)
                throw new SandboxException("ConflictingTargets", SandboxErrorKind.InvalidArgument,
                    "-DockerHost names one engine and -Cluster a swarm; give one of them.", cluster);
            var manager = dockerHost == null ? EndpointResolver.Default.ResolveCluster(cluster) : null;
            if (manager == null)
            {
                if (nodeEndpoint != null)
                    throw new SandboxException("NodeEndpointWithoutCluster", SandboxErrorKind.InvalidArgument,
                        "-NodeEndpoint maps the nodes of a cluster; give -Cluster (or set $env:SANDBOX_CLUSTER) with it.", null);
                return ResolveEndpoint(dockerHost);
            }
            var endpoint = WithCredentials(manager).AsCluster();
            if (nodeEndpoint != null)
                global::Sandbox.Cluster.NodeEndpoints.Remember(endpoint, nodeEndpoint.Cast<DictionaryEntry>().ToDictionary(
                    e => Convert.ToString(Unwrap(e.Key), CultureInfo.InvariantCulture) ?? "", e => Convert.ToString(Unwrap(e.Value), CultureInfo.InvariantCulture) ?? ""));
            return endpoint;
        }

        DockerEndpoint WithCredentials(DockerEndpoint endpoint)
        {
            if (Credential == null && SshKeyPath == null) return endpoint;
            var network = Credential?.GetNetworkCredential();
            var keyPath = SshKeyPath == null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(SshKeyPath);
            return endpoint.WithSshCredentials(network?.UserName is { Length: > 0 } user ? user : null, network?.Password, keyPath);
        }

        /// <summary>The endpoint a sandbox object came from, with the TLS settings it was reached with.</summary>
        protected static DockerEndpoint EndpointOf(Sandbox sandbox) => sandbox.Endpoint ?? KnownEndpoints.Get(sandbox.DockerHost);

        protected ISandboxBackend Connect(DockerEndpoint endpoint)
        {
            var backend = Run(c => SandboxBackends.ConnectAsync(endpoint, c));
            if (!endpoint.IsCluster) KnownEndpoints.Remember(endpoint);
            return backend;
        }

        /// <summary>Where a sandbox object lives: its cluster, else its engine.</summary>
        protected ISandboxBackend ConnectFor(Sandbox sandbox) => Run(c => SandboxBackends.ForAsync(sandbox, EndpointOf(sandbox), c));

        /// <summary>
        /// The engine that runs the sandbox's processes (on a cluster, its node's). Every use of a sandbox gets its engine here, which is also where a use pushes an idle deadline: at its start, every
        /// few seconds while this cmdlet runs (a command may run longer than the idle timeout), and at its end (Dispose).
        /// </summary>
        protected DockerEngine WorkEngine(Sandbox sandbox, ISandboxBackend backend) => Run(async c =>
        {
            var engine = await backend.WorkEngineAsync(sandbox, c).ConfigureAwait(false);
            if (sandbox.IdleTimeoutSec > 0) InUse(sandbox, await backend.DeadlinesAsync(sandbox, c).ConfigureAwait(false));
            return engine;
        });

        /// <summary>A command in a session is a use too (the session holds its engine).</summary>
        private protected void InUse(SandboxSession session)
        {
            if (session.Sandbox.IdleTimeoutSec > 0) InUse(session.Sandbox, new SandboxDeadlines(session.Engine));
        }

        void InUse(Sandbox sandbox, SandboxDeadlines deadlines)
        {
            deadlines.Touch(sandbox);
            lock (_inUse)
            {
                _inUse.Add((sandbox, deadlines));
                _useHeartbeat ??= new Timer(_ => TouchInUse(), null, UseHeartbeat, UseHeartbeat);
            }
        }

        static readonly TimeSpan UseHeartbeat = TimeSpan.FromSeconds(1);
        readonly List<(Sandbox Sandbox, SandboxDeadlines Deadlines)> _inUse = new List<(Sandbox, SandboxDeadlines)>();
        Timer? _useHeartbeat;

        void TouchInUse()
        {
            lock (_inUse) foreach (var (sandbox, deadlines) in _inUse) deadlines.Touch(sandbox);
        }

        /// <summary>PowerShell disposes every cmdlet when its pipeline ends, however it ends.</summary>
        public void Dispose()
        {
            try { DisposeCore(); }
            finally
            {
                lock (_inUse) { _useHeartbeat?.Dispose(); _useHeartbeat = null; }
                TouchInUse();
            }
        }

        /// <summary>What a cmdlet lets go of when its pipeline ends.</summary>
        protected virtual void DisposeCore() { }

        protected ErrorRecord ToErrorRecord(Exception e, object? fallbackTarget = null)
        {
            if (e is SandboxException s)
            {
                var record = new ErrorRecord(s, s.ErrorId, Category(s.Kind), s.Target ?? fallbackTarget);
                if (s.RecommendedAction != null) record.ErrorDetails = new ErrorDetails(s.Message) { RecommendedAction = s.RecommendedAction };
                return record;
            }
            return new ErrorRecord(e, e.GetType().Name.Replace("Exception", "") is var n && n.Length > 0 ? n : "SandboxError", ErrorCategory.NotSpecified, fallbackTarget);
        }

        protected void WriteSandboxError(Exception e, object? target = null) => WriteError(ToErrorRecord(e, target));

        /// <summary>An error in the work on <paramref name="sandbox"/>: one about its container names it by its name.</summary>
        protected void WriteSandboxError(Exception e, Sandbox sandbox, object? target = null) => WriteError(ToErrorRecord(SandboxGone.Named(e, sandbox), target ?? sandbox));

        protected void ThrowSandboxError(Exception e, object? target = null) => ThrowTerminatingError(ToErrorRecord(e, target));

        protected void WriteSandboxError(string errorId, ErrorCategory category, string message, object? target) =>
            WriteError(new ErrorRecord(new InvalidOperationException(message), errorId, category, target));

        protected static ErrorRecord NotFound(string what, string value) =>
            new ErrorRecord(new ItemNotFoundException($"No sandbox with {what} '{value}' was found. List sandboxes with Get-Sandbox."),
                "SandboxNotFound", ErrorCategory.ObjectNotFound, value);

        protected static ErrorRecord InvalidWildcard(string value, WildcardPatternException e) =>
            new ErrorRecord(new ArgumentException($"'{value}' is not a valid wildcard pattern: {e.Message} Escape [ and ] with a backtick (`[), or use -Id."),
                "InvalidWildcardPattern", ErrorCategory.InvalidArgument, value);

        internal static ErrorCategory Category(SandboxErrorKind kind) => kind switch
        {
            SandboxErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
            SandboxErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
            SandboxErrorKind.InvalidData => ErrorCategory.InvalidData,
            SandboxErrorKind.ResourceExists => ErrorCategory.ResourceExists,
            SandboxErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
            SandboxErrorKind.ConnectionError => ErrorCategory.ConnectionError,
            SandboxErrorKind.OperationTimeout => ErrorCategory.OperationTimeout,
            SandboxErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
            SandboxErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
            SandboxErrorKind.SecurityError => ErrorCategory.SecurityError,
            SandboxErrorKind.OperationStopped => ErrorCategory.OperationStopped,
            _ => ErrorCategory.NotSpecified,
        };

        /// <summary>Hashtables from PowerShell carry PSObject wrappers; the engine wants plain values.</summary>
        protected static Dictionary<string, object?> Plain(IDictionary table)
        {
            var result = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
            foreach (DictionaryEntry entry in table)
                result[Convert.ToString(Unwrap(entry.Key), CultureInfo.InvariantCulture) ?? ""] = PlainValue(entry.Value);
            return result;
        }

        static object? PlainValue(object? value)
        {
            value = Unwrap(value);
            return value switch
            {
                IDictionary nested => Plain(nested),
                object[] array => Array.ConvertAll(array, PlainValue),
                _ => value,
            };
        }

        protected static object? Unwrap(object? value) => value is PSObject pso ? pso.BaseObject : value;

        /// <summary>
        /// -Image, else $env:SANDBOX_IMAGE, else the default, with what chose it: as New-Sandbox and Start-SandboxPool both pick
        /// it, so that their pool keys match.
        /// </summary>
        protected static (string Image, ImageOrigin Origin) ImageOrDefault(string? image)
        {
            if (image != null) return (image, ImageOrigin.Given);
            var fromEnvironment = System.Environment.GetEnvironmentVariable("SANDBOX_IMAGE");
            return string.IsNullOrWhiteSpace(fromEnvironment)
                ? (SandboxSpec.DefaultImage, ImageOrigin.ModuleDefault)
                : (fromEnvironment!.Trim(), ImageOrigin.EnvironmentVariable);
        }

        /// <summary>
        /// -Snapshot is the image sandbox-snapshot/&lt;name&gt;:latest, of one engine only; else as <see cref="ImageOrDefault"/>.
        /// Whether the snapshot is there is asked of the engine with <see cref="RequireSnapshot"/>, before anything would pull it.
        /// </summary>
        protected static (string Image, ImageOrigin Origin) ImageOrSnapshot(string? image, string? snapshot, DockerEndpoint endpoint)
        {
            if (snapshot == null) return ImageOrDefault(image);
            if (image != null)
                throw new SandboxException("ConflictingImage", SandboxErrorKind.InvalidArgument,
                    $"-Snapshot '{snapshot}' is the image sandboxes start from, as -Image '{image}' would be; give one of them.", snapshot);
            SandboxSnapshots.ValidateName(snapshot);
            if (endpoint.IsCluster)
                throw new SandboxException("SnapshotNotOnCluster", SandboxErrorKind.InvalidArgument,
                    $"Snapshot '{snapshot}' is an image on the one engine that saved it; the nodes of cluster {endpoint.Host} do not have it.", snapshot,
                    $"Share it through a registry every node can pull from: docker tag {SandboxSnapshots.ImageFor(snapshot)} registry.example.com/team/{snapshot}:1, docker push it, and start with -Cluster ... -Image registry.example.com/team/{snapshot}:1.");
            return (SandboxSnapshots.ImageFor(snapshot), ImageOrigin.Given);
        }

        /// <summary>Refuses a -Snapshot the engine lacks (rather than trying to pull it from Docker Hub) or an image the module did not make.</summary>
        protected void RequireSnapshot(ISandboxBackend backend, string? snapshot)
        {
            if (snapshot == null || !(backend is SandboxManager manager)) return;
            Run(c => SandboxSnapshots.RequireAsync(manager.Engine, snapshot, c));
        }

        /// <summary>The default limits, then -Limits, then -Memory, -Cpus and -PidsLimit where they were given.</summary>
        protected ResourceLimits LimitsFrom(Hashtable? limits, long memory, double cpus, long pidsLimit)
        {
            var result = ResourceLimits.Defaults();
            if (limits != null) result.Apply(Plain(limits));
            if (MyInvocation.BoundParameters.ContainsKey("Memory")) result.Memory = memory;
            if (MyInvocation.BoundParameters.ContainsKey("Cpus")) result.NanoCpus = ResourceLimits.CpusToNano("Cpus", cpus);
            if (MyInvocation.BoundParameters.ContainsKey("PidsLimit"))
            {
                if (pidsLimit == 0) throw ResourceLimits.Invalid("PidsLimit", "-PidsLimit must be positive, or -1 for no limit.");
                result.PidsLimit = pidsLimit;
            }
            result.Normalize();
            return result;
        }

        protected static Dictionary<string, string> StringMap(IDictionary? table)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            if (table == null) return result;
            foreach (DictionaryEntry entry in table)
            {
                var key = Convert.ToString(Unwrap(entry.Key), CultureInfo.InvariantCulture) ?? "";
                if (key.Trim().Length == 0 || key.Contains("=") || key.Contains("\0"))
                    throw new SandboxException("InvalidEnvironment", SandboxErrorKind.InvalidArgument, $"'{key}' is not an environment variable name: use letters, digits and '_', without '=' or NUL.", key);
                var value = Convert.ToString(Unwrap(entry.Value), CultureInfo.InvariantCulture) ?? "";
                if (value.Contains("\0"))
                    throw new SandboxException("InvalidEnvironment", SandboxErrorKind.InvalidArgument, $"The value of environment variable '{key}' contains a NUL character, which no process can receive.", key);
                result[key] = value;
            }
            return result;
        }
    }
}
