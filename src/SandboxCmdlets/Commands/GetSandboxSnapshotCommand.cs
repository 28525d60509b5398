using System.Linq;
using System.Management.Automation;
using Sandbox.Completion;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>Lists the snapshots Save-Sandbox made on an engine (images labelled io.sandbox.snapshot=true).</summary>
    [Cmdlet(VerbsCommon.Get, "SandboxSnapshot")]
    [OutputType(typeof(SandboxSnapshot))]
    public sealed class GetSandboxSnapshotCommand : SnapshotCmdletBase
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SnapshotNameCompleter))]
        public string[]? Name { get; set; }

        protected override void ProcessRecord()
        {
            DockerEngine engine;
            System.Collections.Generic.IReadOnlyList<SandboxSnapshot> all;
            try
            {
                engine = ConnectEngine(DockerHost);
                all = Run(c => SandboxSnapshots.ListAsync(engine, c));
            }
            catch (SandboxException e) { ThrowSandboxError(e); return; }

            if (Name == null) { WriteObject(all, true); return; }
            foreach (var name in Name)
            {
                WildcardPattern pattern;
                try { pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase); pattern.IsMatch(""); }
                catch (WildcardPatternException e) { WriteError(InvalidWildcard(name, e)); continue; }
                var matches = all.Where(s => pattern.IsMatch(s.Name)).ToList();
                if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                    WriteError(new ErrorRecord(new ItemNotFoundException($"No snapshot named '{name}' on {engine.Endpoint.Host}. List them with Get-SandboxSnapshot."),
                        "SnapshotNotFound", ErrorCategory.ObjectNotFound, name));
                WriteObject(matches, true);
            }
        }
    }
}
