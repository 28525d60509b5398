using System.Linq;
using System.Management.Automation;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
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
