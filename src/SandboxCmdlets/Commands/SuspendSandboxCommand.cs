using System;
using System.Collections.Generic;
using System.Management.Automation;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>
    /// Pauses a sandbox (the engine's pause: its processes are frozen, its memory kept). Its deadline clock stops unless
    /// -KeepDeadline; after -MaxSuspend seconds still suspended it is removed.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Suspend, "Sandbox", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = BySandbox)]
    [OutputType(typeof(Sandbox))]
    public sealed class SuspendSandboxCommand : SandboxTargetCmdletBase
    {
        [Parameter]
        [ValidateRange(1, 31_536_000)]
        public int MaxSuspend { get; set; } = SandboxDeadlines.DefaultMaxSuspendSec;

        [Parameter]
        public SwitchParameter KeepDeadline { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            List<(Sandbox Sandbox, ISandboxBackend Backend)> targets;
            try { targets = ResolveTargets(); }
            catch (SandboxException e) { WriteSandboxError(e); return; }

            foreach (var (sandbox, backend) in targets)
            {
                if (!ShouldProcess($"{sandbox.Name} ({sandbox.ShortId}) on {sandbox.DockerHost}", "Suspend sandbox")) continue;
                try
                {
                    if (sandbox.SuspendedAt != null) WriteVerbose($"Sandbox '{sandbox.Name}' is already suspended.");
                    else
                    {
                        Run(async c => await (await backend.DeadlinesAsync(sandbox, c).ConfigureAwait(false))
                            .SuspendAsync(sandbox, TimeSpan.FromSeconds(MaxSuspend), KeepDeadline, c).ConfigureAwait(false));
                        CleanupEngine.Instance.Track(sandbox, backend.Endpoint);
                    }
                    if (PassThru) WriteObject(sandbox);
                }
                catch (SandboxException e) { WriteSandboxError(e, sandbox); }
            }
        }
    }
}
