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

    static class PoolNames
    {
        /// <summary>The pools each name matches (wildcards allowed); a literal name that matches none is an error.</summary>
        public static System.Collections.Generic.IEnumerable<SandboxPool[]> Match(SandboxPool[] pools, string[] names, Cmdlet cmdlet)
        {
            foreach (var name in names)
            {
                SandboxPool[] matches;
                try
                {
                    var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                    matches = pools.Where(p => pattern.IsMatch(p.Name)).ToArray();
                }
                catch (WildcardPatternException e)
                {
                    cmdlet.WriteError(new ErrorRecord(e, "InvalidWildcardPattern", ErrorCategory.InvalidArgument, name));
                    continue;
                }
                if (matches.Length == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                    cmdlet.WriteError(new ErrorRecord(new ItemNotFoundException($"No sandbox pool named '{name}' runs in this PowerShell process. List pools with Get-SandboxPool."),
                        "SandboxPoolNotFound", ErrorCategory.ObjectNotFound, name));
                yield return matches;
            }
        }
    }
}
