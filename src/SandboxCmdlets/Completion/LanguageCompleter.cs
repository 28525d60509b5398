using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using Sandbox.Languages;

namespace Sandbox.Completion
{
    /// <summary>Completes -Language and -Name of the language cmdlets with the languages' names and aliases.</summary>
    public sealed class LanguageCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters) =>
            CompletionSource.Results(wordToComplete, LanguageTable.All.SelectMany(l =>
                new[] { l.Name }.Concat(l.Aliases).Select(name => (name, $"{l.Name}: {string.Join(" ", l.RunCommand)} ({l.Extension}, image {l.Image})"))));
    }
}
