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
            List<(Sandbox Sandbox, ISandboxBackend Backend)> targets;
            try
            {
                if (All || Expired)
                {
                    var manager = Connect(ResolvePlace(DockerHost, Cluster, NodeEndpoint));
                    Sandbox[] list;
                    if (All) list = Run(c => manager.ListAsync(c)).ToArray();
                    else
                    {
                        var (expired, unknown) = Run(c => manager.ListExpiredAsync(c));
                        foreach (var sandbox in unknown)
                            WriteWarning($"The deadline of sandbox '{sandbox.Name}' could not be read (the engine failed after retries); it is left running, since Set-Sandbox may have extended it.");
                        list = expired;
                    }
                    targets = list.Select(s => (s, manager)).ToList();
                }
                else targets = ResolveTargets();
            }
            catch (SandboxException e) { WriteSandboxError(e); return; }

            foreach (var (sandbox, manager) in targets)
            {
                if (!ShouldProcess($"{sandbox.Name} ({sandbox.ShortId}) on {sandbox.DockerHost}", "Stop and remove sandbox")) continue;
                bool removed;
                try { removed = RemoveSandbox(sandbox, manager); }
                catch (SandboxException e) { WriteSandboxError(e, sandbox); continue; }
                if (!removed) WriteVerbose($"Sandbox '{sandbox.Name}' was already gone.");
                if (PassThru) WriteObject(sandbox);
            }
            if (All || Expired)
            {
                try
                {
                    var manager = Connect(ResolvePlace(DockerHost, Cluster, NodeEndpoint));
                    Run(c => manager.PruneLeftoversAsync(c));
                }
                catch (SandboxException e) { WriteSandboxError(e); }
            }
        }
    }
}
