using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using Sandbox.Sessions;

namespace Sandbox.Completion
{
    /// <summary>Completes session names with the sessions of this PowerShell process (of the sandbox the command line names, if it names one).</summary>
    public sealed class SandboxSessionNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var sandbox = fakeBoundParameters != null && fakeBoundParameters.Contains("Sandbox") ? CompletionSource.NamedSandbox(fakeBoundParameters) : null;
            var sessions = SandboxSessions.All.Where(s => sandbox == null || s.SandboxId == sandbox.Id);
            return CompletionSource.Results(wordToComplete, sessions.Select(s => (s.Name, $"session {s.Name} ({s.State}) in sandbox {s.SandboxName} on {s.DockerHost}")));
        }
    }
}
