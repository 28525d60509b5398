using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Sandbox.Completion
{
    /// <summary>Completes -Id with the short ids of the sandboxes on the engine (the full id once more than 12 characters are typed).</summary>
    public sealed class SandboxIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var full = (wordToComplete ?? "").Trim('\'', '"').Length > 12;
            return CompletionSource.Results(wordToComplete ?? "", CompletionSource.Sandboxes(fakeBoundParameters)
                .Select(s => (full ? s.Id : s.ShortId, CompletionSource.Describe(s))));
        }
    }
}
