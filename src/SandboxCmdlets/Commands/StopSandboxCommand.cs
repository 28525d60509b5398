using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Sandbox.Hosting;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    [Cmdlet(VerbsLifecycle.Stop, "Sandbox", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = BySandbox)]
    [OutputType(typeof(Sandbox))]
    public sealed class StopSandboxCommand : SandboxTargetCmdletBase
    {
        [Parameter(Mandatory = true, ParameterSetName = "All")]
        public SwitchParameter All { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = "Expired")]
        public SwitchParameter Expired { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            List<(Sandbox Sandbox, SandboxManager Manager)> targets;
            try
            {
                if (All || Expired)
                {
                    var manager = Connect(ResolveEndpoint(DockerHost));
                    var list = All ? Run(c => manager.ListAsync(c)).ToArray() : Run(c => manager.ListExpiredAsync(c));
                    targets = list.Select(s => (s, manager)).ToList();
                }
                else targets = ResolveTargets();
            }
            catch (SandboxException e) { WriteSandboxError(e); return; }

            foreach (var (sandbox, manager) in targets)
            {
                if (!ShouldProcess($"{sandbox.Name} ({sandbox.ShortId}) on {sandbox.DockerHost}", "Stop and remove sandbox")) continue;
                bool removed;
                try { removed = Run(c => manager.RemoveAsync(sandbox, c)); }
                catch (SandboxException e) { WriteSandboxError(e, sandbox); continue; }
                // Only once it is gone: a removal that failed keeps its hook and its place in the cleanup engine.
                CleanupEngine.Instance.Untrack(sandbox.Id);
                SandboxHooks.TryRunOnKill(Events, sandbox, WriteWarning);
                if (!removed) WriteVerbose($"Sandbox '{sandbox.Name}' was already gone.");
                Completion.CompletionSource.Invalidate();
                sandbox.State = "removed";
                SandboxHooks.RaiseStopped(sandbox);
                if (PassThru) WriteObject(sandbox);
            }
            if (All || Expired)
            {
                try
                {
                    var manager = Connect(ResolveEndpoint(DockerHost));
                    Run(c => manager.PruneDeadlineVolumesAsync(c));
                }
                catch (SandboxException e) { WriteSandboxError(e); }
            }
        }
    }
}
