using System.Linq;
using System.Management.Automation;
using Sandbox.Sessions;

namespace Sandbox.Commands
{
    /// <summary>Ends sessions' shells and takes them off the list; works on Broken and Closed sessions too.</summary>
    [Cmdlet(VerbsCommon.Remove, "SandboxSession", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = BySession)]
    [OutputType(typeof(void))]
    public sealed class RemoveSandboxSessionCommand : PSCmdlet
    {
        const string BySession = "Session";
        const string ByName = "Name";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = BySession)]
        [ValidateNotNull]
        public SandboxSession[] Session { get; set; } = null!;

        [Parameter(Mandatory = true, ParameterSetName = ByName)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(Completion.SandboxSessionNameCompleter))]
        public string[] Name { get; set; } = null!;

        [Parameter(ParameterSetName = ByName)]
        [ValidateNotNull]
        public Sandbox[]? Sandbox { get; set; }

        protected override void ProcessRecord()
        {
            var targets = Session;
            if (ParameterSetName == ByName)
            {
                var sessions = SandboxSessions.All.Where(s => Sandbox == null || Sandbox.Any(b => b.Id == s.SandboxId)).ToList();
                targets = SessionNames.Match(sessions, Name, this).SelectMany(m => m).Distinct().ToArray();
            }
            foreach (var session in targets)
            {
                if (!ShouldProcess($"session '{session.Name}' ({session.State}) in sandbox '{session.SandboxName}'", "Remove sandbox session")) continue;
                SandboxSessions.Remove(session);
            }
        }
    }
}
