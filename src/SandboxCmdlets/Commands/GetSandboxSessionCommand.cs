using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Sandbox.Sessions;

namespace Sandbox.Commands
{
    /// <summary>The shell sessions of this PowerShell process, optionally of given sandboxes or with given names.</summary>
    [Cmdlet(VerbsCommon.Get, "SandboxSession")]
    [OutputType(typeof(SandboxSession))]
    public sealed class GetSandboxSessionCommand : PSCmdlet
    {
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(Completion.SandboxSessionNameCompleter))]
        public string[]? Name { get; set; }

        [Parameter(ValueFromPipeline = true)]
        [ValidateNotNull]
        public Sandbox[]? Sandbox { get; set; }

        protected override void ProcessRecord()
        {
            IEnumerable<SandboxSession> sessions = SandboxSessions.All;
            if (Sandbox != null)
            {
                var ids = new HashSet<string>(Sandbox.Select(s => s.Id));
                sessions = sessions.Where(s => ids.Contains(s.SandboxId));
            }
            var list = sessions.ToList();
            if (Name == null)
            {
                WriteObject(list, enumerateCollection: true);
                return;
            }
            foreach (var matches in SessionNames.Match(list, Name, this))
                WriteObject(matches, enumerateCollection: true);
        }
    }
}
