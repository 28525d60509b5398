using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Sandbox.Completion
{
    /// <summary>Completes -Image with the images the engine has locally, as repository:tag.</summary>
    public sealed class ImageCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters) =>
            CompletionSource.Results(wordToComplete, CompletionSource.Images(fakeBoundParameters).Select(tag => (tag, $"{tag} (local image)")));
    }
}
