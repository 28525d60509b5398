using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Lifecycle;
using Sandbox.Observe;

namespace Sandbox.Commands
{
    /// <summary>CPU, memory, pids, network and block I/O of sandboxes, as docker stats shows them: once, or every second with -Watch.</summary>
    [Cmdlet(VerbsCommon.Get, "SandboxStats", DefaultParameterSetName = AllSet)]
    [OutputType(typeof(SandboxStats))]
    public sealed class GetSandboxStatsCommand : SandboxTargetCmdletBase
    {
        const string AllSet = "All";

        /// <summary>Every sandbox of the engine (or cluster); the default when no sandbox is named.</summary>
        [Parameter(ParameterSetName = AllSet)]
        public SwitchParameter All { get; set; }

        /// <summary>Keep reading: a new object per sandbox every second until Ctrl+C (or until the sandbox is gone).</summary>
        [Parameter]
        [Alias("Stream")]
        public SwitchParameter Watch { get; set; }

        readonly List<(Sandbox Sandbox, ISandboxBackend Backend)> _targets = new List<(Sandbox, ISandboxBackend)>();

        protected override void ProcessRecord()
        {
            try
            {
                if (ParameterSetName == AllSet)
                {
                    var backend = Connect(ResolvePlace(DockerHost, Cluster, NodeEndpoint));
                    _targets.AddRange(Run(c => backend.ListAsync(c)).Select(s => (s, backend)));
                }
                else _targets.AddRange(ResolveTargets());
            }
            catch (SandboxException e) { WriteSandboxError(e); }
        }

        protected override void EndProcessing()
        {
            var targets = _targets.GroupBy(t => t.Sandbox.Id).Select(g => g.First()).ToList();
            if (targets.Count == 0) return;
            if (Watch)
            {
                Run(c => Task.WhenAll(targets.Select(t => WatchOne(t.Sandbox, t.Backend, c))));
                return;
            }
            // All at once: the engine takes a second for each reading.
            var readings = Run(c => Task.WhenAll(targets.Select(t => ReadOne(t.Sandbox, t.Backend, c))));
            for (var i = 0; i < targets.Count; i++)
            {
                if (readings[i].Stats is { } stats) WriteObject(stats);
                else WriteSandboxError(readings[i].Error!, targets[i].Sandbox);
            }
        }

        static async Task<(SandboxStats? Stats, Exception? Error)> ReadOne(Sandbox sandbox, ISandboxBackend backend, CancellationToken cancel)
        {
            try
            {
                var engine = await backend.WorkEngineAsync(sandbox, cancel).ConfigureAwait(false);
                return (await StatsReader.ReadOnceAsync(engine, sandbox, cancel).ConfigureAwait(false), null);
            }
            catch (Exception e) when (!(e is OperationCanceledException && cancel.IsCancellationRequested)) { return (null, e); }
        }

        async Task WatchOne(Sandbox sandbox, ISandboxBackend backend, CancellationToken cancel)
        {
            try
            {
                var engine = await backend.WorkEngineAsync(sandbox, cancel).ConfigureAwait(false);
                await StatsReader.WatchAsync(engine, sandbox, stats => Post(() => WriteObject(stats)), cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested) { }
            catch (Exception e) { Post(() => WriteSandboxError(e, sandbox)); }
        }
    }
}
