using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using Sandbox.Lifecycle;

namespace Sandbox.Completion
{
    /// <summary>Completes -Name of the pool cmdlets with the pools running in this PowerShell process.</summary>
    public sealed class SandboxPoolNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters) =>
            CompletionSource.Results(wordToComplete, SandboxPools.All.Select(p => (p.Name, $"pool {p.Name}: {p.Ready} of {p.Size} waiting, image {p.Image} on {p.DockerHost}")));
    }
}
