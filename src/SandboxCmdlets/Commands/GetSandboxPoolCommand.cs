using System.Linq;
using System.Management.Automation;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>The warm pools of this PowerShell process, with their live counts and last refill error.</summary>
    [Cmdlet(VerbsCommon.Get, "SandboxPool")]
    [OutputType(typeof(SandboxPool))]
    public sealed class GetSandboxPoolCommand : PSCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(Completion.SandboxPoolNameCompleter))]
        public string[]? Name { get; set; }

        protected override void ProcessRecord()
        {
            var pools = SandboxPools.All;
            if (Name == null)
            {
                WriteObject(pools, enumerateCollection: true);
                return;
            }
            foreach (var matches in PoolNames.Match(pools, Name, this))
                WriteObject(matches, enumerateCollection: true);
        }
    }
}
