using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Sandbox.Completion
{
    /// <summary>Completes -Name with the names of the sandboxes on the engine.</summary>
    public sealed class SandboxNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters) =>
            CompletionSource.Results(wordToComplete, CompletionSource.Sandboxes(fakeBoundParameters).Select(s => (s.Name, CompletionSource.Describe(s))));
    }
}
