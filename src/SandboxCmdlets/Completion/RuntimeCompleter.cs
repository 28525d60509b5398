using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Sandbox.Completion
{
    /// <summary>Completes -Runtime with the container runtimes the engine has registered (runc, runsc, ...).</summary>
    public sealed class RuntimeCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters) =>
            CompletionSource.Results(wordToComplete, CompletionSource.Runtimes(fakeBoundParameters)
                .GroupBy(r => r.Name).Select(g => (g.Key, ToolTip(g.Key, g.Any(r => r.IsDefault)))));

        static string ToolTip(string name, bool isDefault) =>
            name + (isDefault ? " (the engine's default)" : "") + (name == "runsc" ? ": gVisor, a user-space kernel between the sandbox and the host" : "");
    }
}
