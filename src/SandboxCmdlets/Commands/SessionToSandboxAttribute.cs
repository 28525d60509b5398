using System.Collections;
using System.Linq;
using System.Management.Automation;

namespace Sandbox.Commands
{
    /// <summary>
    /// Lets a SandboxSession piped into a cmdlet bind to -Sandbox, as a copy of its sandbox that remembers the session.
    /// Why: PowerShell binds pipeline input to the default parameter set first, and there a session's Name and Id properties
    /// would bind to -Name and -Id by property name before a -Session parameter set is ever tried. Cmdlets that take
    /// sessions run the command in it; the others refuse it (see SandboxTargetCmdletBase.AcceptsSessions).
    /// </summary>
    sealed class SessionToSandboxAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            var value = inputData is PSObject pso ? pso.BaseObject : inputData;
            if (value is SandboxSession session) return session.Sandbox.ForSession(session);
            if (value is IEnumerable many && !(value is string))
            {
                var items = many.Cast<object?>().Select(i => i is PSObject p ? p.BaseObject : i).ToList();
                if (items.Any(i => i is SandboxSession))
                    return items.Select(i => i is SandboxSession s ? s.Sandbox.ForSession(s) : i).ToArray();
            }
            return inputData;
        }
    }
}
