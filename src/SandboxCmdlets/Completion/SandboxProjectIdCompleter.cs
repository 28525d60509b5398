using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Sandbox.Completion
{
    /// <summary>Completes -ProjectId with the projects that have sandboxes on the engine.</summary>
    public sealed class SandboxProjectIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters) =>
            CompletionSource.Results(wordToComplete, CompletionSource.Sandboxes(fakeBoundParameters)
                .Where(s => !string.IsNullOrEmpty(s.ProjectId))
                .GroupBy(s => s.ProjectId!)
                .Select(g => (g.Key, $"project {g.Key}: {string.Join(", ", g.Select(s => $"{s.Name} ({s.State})"))}")));
    }
}
