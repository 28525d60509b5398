using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace Sandbox.Commands
{
    /// <summary>The Get-* rule for session names: a wildcard that matches nothing is silent, a literal name that matches nothing is an error.</summary>
    static class SessionNames
    {
        public static IEnumerable<List<SandboxSession>> Match(IReadOnlyList<SandboxSession> sessions, string[] names, Cmdlet cmdlet)
        {
            foreach (var name in names)
            {
                List<SandboxSession> matches;
                try
                {
                    var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                    matches = sessions.Where(s => pattern.IsMatch(s.Name)).ToList();
                }
                catch (WildcardPatternException e)
                {
                    cmdlet.WriteError(new ErrorRecord(e, "InvalidWildcardPattern", ErrorCategory.InvalidArgument, name));
                    continue;
                }
                if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                {
                    cmdlet.WriteError(new ErrorRecord(new ItemNotFoundException($"No session named '{name}' is open in this PowerShell process. List them with Get-SandboxSession."),
                        "SandboxSessionNotFound", ErrorCategory.ObjectNotFound, name));
                    continue;
                }
                yield return matches;
            }
        }
    }
}
