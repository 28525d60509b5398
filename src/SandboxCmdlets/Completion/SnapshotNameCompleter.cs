using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using Sandbox.Lifecycle;

namespace Sandbox.Completion
{
    /// <summary>Completes snapshot names with the sandbox-snapshot/&lt;name&gt;:latest images of the engine the command line names.</summary>
    public sealed class SnapshotNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters) =>
            CompletionSource.Results(wordToComplete, CompletionSource.Images(fakeBoundParameters)
                .Select(SandboxSnapshots.NameOf).Where(name => name != null).Select(name => (name!, $"snapshot {name} ({SandboxSnapshots.ImageFor(name!)})")));
    }
}
