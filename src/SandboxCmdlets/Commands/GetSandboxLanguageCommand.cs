using System.Linq;
using System.Management.Automation;
using Sandbox.Completion;
using Sandbox.Languages;

namespace Sandbox.Commands
{
    /// <summary>Lists the languages Invoke-SandboxCode runs and New-Sandbox -Build detects, in detection order.</summary>
    [Cmdlet(VerbsCommon.Get, "SandboxLanguage")]
    [OutputType(typeof(LanguageDefinition))]
    public sealed class GetSandboxLanguageCommand : PSCmdlet
    {
        [Parameter(Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(LanguageCompleter))]
        public string[]? Name { get; set; }

        protected override void ProcessRecord()
        {
            var all = LanguageTable.All;
            if (Name == null)
            {
                WriteObject(all, enumerateCollection: true);
                return;
            }
            foreach (var name in Name)
            {
                WildcardPattern pattern;
                try { pattern = new WildcardPattern(name.Trim(), WildcardOptions.IgnoreCase); _ = pattern.IsMatch(""); }
                catch (WildcardPatternException e)
                {
                    WriteError(new ErrorRecord(new System.ArgumentException($"'{name}' is not a valid wildcard pattern: {e.Message}"), "InvalidWildcardPattern", ErrorCategory.InvalidArgument, name));
                    continue;
                }
                var matches = all.Where(l => pattern.IsMatch(l.Name) || l.Aliases.Any(pattern.IsMatch)).ToList();
                if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                    WriteError(new ErrorRecord(new ItemNotFoundException($"There is no language '{name}'. Known languages: {LanguageTable.KnownNames()}."),
                        "UnknownLanguage", ErrorCategory.ObjectNotFound, name));
                WriteObject(matches, enumerateCollection: true);
            }
        }
    }
}
