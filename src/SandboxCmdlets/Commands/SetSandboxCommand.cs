using System.Collections.Generic;
using System.Management.Automation;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>Moves a running sandbox's deadline, as E2B's set_timeout: -Timeout seconds from now, 0 for none.</summary>
    [Cmdlet(VerbsCommon.Set, "Sandbox", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = BySandbox)]
    [OutputType(typeof(Sandbox))]
    public sealed class SetSandboxCommand : SandboxTargetCmdletBase
    {
        [Parameter(Mandatory = true)]
        [ValidateRange(0, 31_536_000)]
        public int Timeout { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            List<(Sandbox Sandbox, ISandboxBackend Backend)> targets;
            try { targets = ResolveTargets(); }
            catch (SandboxException e) { WriteSandboxError(e); return; }

            foreach (var (sandbox, manager) in targets)
            {
                var change = Timeout == 0 ? "remove its deadline" : $"set its deadline to {Timeout} s from now";
                if (!ShouldProcess($"{sandbox.Name} ({sandbox.ShortId}) on {sandbox.DockerHost}", change)) continue;
                try
                {
                    Run(async c => await (await manager.DeadlinesAsync(sandbox, c).ConfigureAwait(false)).MoveAsync(sandbox, Timeout, null, null, c).ConfigureAwait(false));
                    CleanupEngine.Instance.Track(sandbox, manager.Endpoint);
                    if (PassThru) WriteObject(sandbox);
                }
                catch (SandboxException e) { WriteSandboxError(e, sandbox); }
            }
        }
    }
}
