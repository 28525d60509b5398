using System.Collections.Generic;
using System.Management.Automation;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>
    /// Unpauses a suspended sandbox with the deadline it had left (or its original deadline after -KeepDeadline); one
    /// whose time ran out while suspended is removed instead, with an error.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Resume, "Sandbox", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = BySandbox)]
    [OutputType(typeof(Sandbox))]
    public sealed class ResumeSandboxCommand : SandboxTargetCmdletBase
    {
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            List<(Sandbox Sandbox, ISandboxBackend Backend)> targets;
            try { targets = ResolveTargets(); }
            catch (SandboxException e) { WriteSandboxError(e); return; }

            foreach (var (sandbox, backend) in targets)
            {
                if (!ShouldProcess($"{sandbox.Name} ({sandbox.ShortId}) on {sandbox.DockerHost}", "Resume sandbox")) continue;
                try
                {
                    var resumed = Run(async c => await (await backend.DeadlinesAsync(sandbox, c).ConfigureAwait(false)).ResumeAsync(sandbox, c).ConfigureAwait(false));
                    if (!resumed) WriteVerbose($"Sandbox '{sandbox.Name}' was not suspended ({sandbox.State}).");
                    else if (SandboxDeadlines.IsKnownPassed(sandbox))
                    {
                        RemoveSandbox(sandbox, backend);
                        throw new SandboxException("SuspendExpired", SandboxErrorKind.InvalidOperation,
                            $"Sandbox '{sandbox.Name}' ({sandbox.ShortId}) ran out of time while suspended (its -MaxSuspend, or its deadline with -KeepDeadline) and was removed.",
                            sandbox.Name, "New-Sandbox makes a new one; Suspend-Sandbox -MaxSuspend allows a longer suspension.");
                    }
                    else CleanupEngine.Instance.Track(sandbox, backend.Endpoint);
                    if (PassThru) WriteObject(sandbox);
                }
                catch (SandboxException e) { WriteSandboxError(e, sandbox); }
            }
        }
    }
}
