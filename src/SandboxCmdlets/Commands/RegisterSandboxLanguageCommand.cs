using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Sandbox.Completion;
using Sandbox.Languages;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>
    /// Adds a language to the table, or changes one (the fields given replace those of the entry of that name), for this
    /// PowerShell process; -Reset puts the built-in table back.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Register, "SandboxLanguage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByFields)]
    [OutputType(typeof(LanguageDefinition))]
    public sealed class RegisterSandboxLanguageCommand : PSCmdlet
    {
        const string ByFields = "Fields";
        const string ByObject = "InputObject";
        const string ToBuiltIn = "Reset";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByFields)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(LanguageCompleter))]
        public string Name { get; set; } = null!;

        [Parameter(ParameterSetName = ByFields)]
        [ValidateNotNullOrEmpty]
        public string? Extension { get; set; }

        [Parameter(ParameterSetName = ByFields)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageCompleter))]
        public string? Image { get; set; }

        [Parameter(ParameterSetName = ByFields)]
        [ValidateNotNullOrEmpty]
        public string[]? RunCommand { get; set; }

        [Parameter(ParameterSetName = ByFields)]
        [ValidateNotNull]
        public string[]? Alias { get; set; }

        [Parameter(ParameterSetName = ByFields)]
        [ValidateNotNull]
        public string[]? DetectFile { get; set; }

        [Parameter(ParameterSetName = ByFields)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageCompleter))]
        public string? BuildImage { get; set; }

        [Parameter(ParameterSetName = ByFields)]
        [ValidateNotNullOrEmpty]
        public string? InstallCommand { get; set; }

        [Parameter(ParameterSetName = ByFields)]
        [ValidateNotNull]
        public Hashtable? BuildEnvironment { get; set; }

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByObject)]
        [ValidateNotNull]
        public LanguageDefinition InputObject { get; set; } = null!;

        [Parameter(Mandatory = true, ParameterSetName = ToBuiltIn)]
        public SwitchParameter Reset { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ToBuiltIn)
            {
                if (!ShouldProcess("the language table", "Restore the built-in languages")) return;
                LanguageTable.Reset();
                if (PassThru) WriteObject(LanguageTable.All, enumerateCollection: true);
                return;
            }

            LanguageDefinition definition;
            try
            {
                definition = ParameterSetName == ByObject ? InputObject.Clone() : FromFields();
                definition.Name = definition.Name?.Trim() ?? "";
                definition.Validate();
                var taken = LanguageTable.Conflict(definition);
                if (taken != null)
                {
                    var name = new[] { definition.Name }.Concat(definition.Aliases).First(taken.Matches);
                    throw new SandboxException("LanguageNameConflict", SandboxErrorKind.ResourceExists,
                        $"'{name}' already names language '{taken.Name}'. Choose another name or alias, or change '{taken.Name}' first (Register-SandboxLanguage -Name {taken.Name} -Alias ...).", name);
                }
            }
            catch (SandboxException e)
            {
                var record = new ErrorRecord(e, e.ErrorId, SandboxCmdletBase.Category(e.Kind), e.Target);
                if (e.RecommendedAction != null) record.ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = e.RecommendedAction };
                WriteError(record);
                return;
            }

            var existing = LanguageTable.Find(definition.Name);
            var replaces = existing != null && string.Equals(existing.Name, definition.Name, System.StringComparison.OrdinalIgnoreCase);
            if (!ShouldProcess($"language '{definition.Name}' ({string.Join(" ", definition.RunCommand)}, image {definition.Image})",
                    replaces ? "Replace language" : "Register language")) return;
            LanguageTable.Register(definition);
            if (PassThru) WriteObject(LanguageTable.Find(definition.Name));
        }

        /// <summary>The entry of that name (or alias) with the fields given replaced, or a new one of just those fields.</summary>
        LanguageDefinition FromFields()
        {
            var definition = LanguageTable.Find(Name.Trim()) ?? new LanguageDefinition { Name = Name.Trim() };
            var missing = new List<string>();
            if (Extension != null) definition.Extension = Extension.Trim();
            else if (definition.Extension.Length == 0) missing.Add("-Extension");
            if (Image != null) definition.Image = Image.Trim();
            else if (definition.Image.Length == 0) missing.Add("-Image");
            if (RunCommand != null) definition.RunCommand = (string[])RunCommand.Clone();
            else if (definition.RunCommand.Length == 0) missing.Add("-RunCommand");
            if (missing.Count > 0)
                throw new SandboxException("LanguageFieldRequired", SandboxErrorKind.InvalidArgument,
                    $"Language '{Name}' is new, so it needs {string.Join(", ", missing)} too: such as -Extension .pl -Image perl:5 -RunCommand perl, '{LanguageDefinition.FilePlaceholder}'.", Name);
            if (Alias != null) definition.Aliases = Alias.Select(a => a.Trim()).Where(a => a.Length > 0).Distinct(System.StringComparer.OrdinalIgnoreCase).ToArray();
            if (DetectFile != null) definition.DetectFiles = DetectFile.Select(d => d.Trim()).ToArray();
            if (BuildImage != null) definition.BuildImage = BuildImage.Trim();
            if (InstallCommand != null) definition.InstallCommand = InstallCommand;
            if (BuildEnvironment != null) definition.BuildEnvironment = EnvironmentMap(BuildEnvironment);
            return definition;
        }

        static Dictionary<string, string> EnvironmentMap(Hashtable table)
        {
            var result = new Dictionary<string, string>(System.StringComparer.Ordinal);
            foreach (DictionaryEntry entry in table)
            {
                var key = LanguagePrimitives.ConvertTo<string>(entry.Key)?.Trim() ?? "";
                if (key.Length == 0 || key.Contains("=") || key.Contains("\0"))
                    throw new SandboxException("InvalidEnvironment", SandboxErrorKind.InvalidArgument, $"'{key}' is not an environment variable name: use letters, digits and '_', without '='.", key);
                result[key] = LanguagePrimitives.ConvertTo<string>(entry.Value) ?? "";
            }
            return result;
        }
    }
}
