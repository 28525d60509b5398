using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using Sandbox.Files;

namespace Sandbox.Completion
{
    /// <summary>
    /// Completes Copy-SandboxItem -Path with paths inside the sandbox when -FromSandbox is on the command line (before or after
    /// -Path); otherwise PowerShell completes local paths as usual. Relative paths count from the sandbox's working directory.
    /// </summary>
    public sealed class SandboxPathCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult>? CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            if (!IsOn(fakeBoundParameters, "FromSandbox")) return null;
            var word = wordToComplete ?? "";
            var typed = word.Trim('\'', '"');
            var sandbox = CompletionSource.NamedSandbox(fakeBoundParameters);
            var folderPart = typed.Substring(0, typed.LastIndexOf('/') + 1);
            var entries = sandbox == null ? null
                : CompletionSource.FolderEntries(sandbox, folderPart.Length == 0 ? sandbox.WorkingDirectory : ContainerPath.Resolve(sandbox.WorkingDirectory, folderPart));
            if (entries == null) return Nothing(word);
            var results = CompletionSource.Results(word, entries.Select(e => (folderPart + e, $"{folderPart + e} in sandbox {sandbox!.Name}"))).ToList();
            return results.Count > 0 ? results : Nothing(word);
        }

        /// <summary>
        /// No candidates, without PowerShell falling back to local paths (which it does for an empty answer): the word stays as
        /// typed. An empty word cannot be answered so, and gets PowerShell's own completion.
        /// </summary>
        static IEnumerable<CompletionResult>? Nothing(string word) =>
            word.Length == 0 ? null : new[] { new CompletionResult(word, word, CompletionResultType.ParameterValue, "nothing in the sandbox matches") };

        static bool IsOn(IDictionary? fakeBoundParameters, string name)
        {
            if (fakeBoundParameters == null || !fakeBoundParameters.Contains(name)) return false;
            var value = fakeBoundParameters[name] is PSObject pso ? pso.BaseObject : fakeBoundParameters[name];
            return value switch
            {
                SwitchParameter s => s.IsPresent,
                bool b => b,
                _ => value != null,
            };
        }
    }
}
