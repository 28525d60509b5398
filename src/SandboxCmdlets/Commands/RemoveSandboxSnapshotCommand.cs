using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Sandbox.Completion;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>Removes snapshots Save-Sandbox made; never an image without the label io.sandbox.snapshot=true.</summary>
    [Cmdlet(VerbsCommon.Remove, "SandboxSnapshot", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByName)]
    [OutputType(typeof(void))]
    public sealed class RemoveSandboxSnapshotCommand : SnapshotCmdletBase
    {
        const string ByName = "Name";
        const string BySnapshot = "Snapshot";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SnapshotNameCompleter))]
        public string[] Name { get; set; } = null!;

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = BySnapshot)]
        [ValidateNotNull]
        public SandboxSnapshot[] Snapshot { get; set; } = null!;

        protected override void ProcessRecord()
        {
            var targets = new List<(SandboxSnapshot Snapshot, DockerEngine Engine)>();
            try
            {
                if (ParameterSetName == BySnapshot)
                {
                    foreach (var snapshot in Snapshot)
                        targets.Add((snapshot, ConnectEngine(DockerHost != null ? ResolveEndpoint(DockerHost) : KnownEndpoints.Get(snapshot.DockerHost))));
                }
                else
                {
                    var engine = ConnectEngine(DockerHost);
                    IReadOnlyList<SandboxSnapshot>? all = null;
                    foreach (var name in Name)
                    {
                        if (!WildcardPattern.ContainsWildcardCharacters(name))
                        {
                            // A literal name is looked up as an image, so that one the module did not make is refused aloud.
                            try
                            {
                                var found = Run(c => SandboxSnapshots.FindAsync(engine, name, c));
                                if (found == null)
                                    WriteError(new ErrorRecord(new ItemNotFoundException($"No snapshot named '{name}' on {engine.Endpoint.Host}. List them with Get-SandboxSnapshot."),
                                        "SnapshotNotFound", ErrorCategory.ObjectNotFound, name));
                                else targets.Add((found, engine));
                            }
                            catch (SandboxException e) { WriteSandboxError(e, name); }
                            continue;
                        }
                        WildcardPattern pattern;
                        try { pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase); pattern.IsMatch(""); }
                        catch (WildcardPatternException e) { WriteError(InvalidWildcard(name, e)); continue; }
                        all ??= Run(c => SandboxSnapshots.ListAsync(engine, c));
                        targets.AddRange(all.Where(s => pattern.IsMatch(s.Name)).Select(s => (s, engine)));
                    }
                }
            }
            catch (SandboxException e) { ThrowSandboxError(e); return; }

            foreach (var (snapshot, engine) in targets)
            {
                if (!ShouldProcess($"{snapshot.Name} ({snapshot.Image}, {snapshot.ShortImageId}) on {engine.Endpoint.Host}", "Remove sandbox snapshot")) continue;
                try
                {
                    Run(c => SandboxSnapshots.RemoveAsync(engine, snapshot, c));
                    CompletionSource.Invalidate();
                }
                catch (SandboxException e) { WriteSandboxError(e, snapshot); }
            }
        }
    }
}
