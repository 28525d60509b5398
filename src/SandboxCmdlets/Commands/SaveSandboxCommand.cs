using System.Collections.Generic;
using System.Management.Automation;
using Sandbox.Completion;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>Saves a sandbox's file system as a snapshot image on its engine, for New-Sandbox -Snapshot.</summary>
    [Cmdlet(VerbsData.Save, "Sandbox", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = BySandbox)]
    [OutputType(typeof(SandboxSnapshot))]
    public sealed class SaveSandboxCommand : SandboxTargetCmdletBase
    {
        /// <summary>The snapshot's name (the image sandbox-snapshot/&lt;name&gt;:latest); -Name names the sandbox, as in every target cmdlet.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [Alias("Snapshot")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SnapshotNameCompleter))]
        public string SnapshotName { get; set; } = null!;

        /// <summary>Replace a snapshot of the same name.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        bool _saved;

        protected override void ProcessRecord()
        {
            try { SandboxSnapshots.ValidateName(SnapshotName); }
            catch (SandboxException e) { ThrowSandboxError(e); }

            List<(Sandbox Sandbox, ISandboxBackend Backend)> targets;
            try { targets = ResolveTargets(); }
            catch (SandboxException e) { WriteSandboxError(e); return; }

            foreach (var (sandbox, backend) in targets)
            {
                if (_saved)
                {
                    WriteSandboxError(new SandboxException("OneSandboxPerSnapshot", SandboxErrorKind.InvalidArgument,
                        $"Snapshot '{SnapshotName}' was already saved from another sandbox in this call; '{sandbox.Name}' was not saved. Save each sandbox under its own name.", sandbox.Name));
                    continue;
                }
                if (!ShouldProcess($"{sandbox.Name} ({sandbox.ShortId}) on {sandbox.DockerHost}", $"Save as snapshot '{SnapshotName}' ({SandboxSnapshots.ImageFor(SnapshotName)})")) continue;
                try
                {
                    var engine = WorkEngine(sandbox, backend);
                    var (snapshot, leftOut) = Run(c => SandboxSnapshots.SaveAsync(engine, sandbox, SnapshotName, Force, c));
                    _saved = true;
                    foreach (var path in leftOut)
                        WriteWarning(path == sandbox.WorkingDirectory
                            ? $"{path} of sandbox '{sandbox.Name}' is mounted ({sandbox.WorkspaceMode}), and a snapshot holds no mounts: in snapshot '{snapshot.Name}' {path} is empty. Use New-Sandbox -CopyPath to have it saved."
                            : $"{path} of sandbox '{sandbox.Name}' is a mount, which snapshot '{snapshot.Name}' does not hold.");
                    Completion.CompletionSource.Invalidate();
                    WriteObject(snapshot);
                }
                catch (SandboxException e) { WriteSandboxError(e, sandbox); }
            }
        }
    }
}
