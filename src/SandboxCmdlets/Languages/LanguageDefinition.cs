using System;
using System.Collections.Generic;
using System.Linq;
using Sandbox.Lifecycle;

namespace Sandbox.Languages
{
    /// <summary>
    /// One language the module knows: how to run a file of it (Invoke-SandboxCode) and how to make an image for a
    /// project in it (New-Sandbox -Build). Users add or replace entries with Register-SandboxLanguage.
    /// </summary>
    public sealed class LanguageDefinition
    {
        /// <summary>The placeholder for the code file's path inside the sandbox in <see cref="RunCommand"/>.</summary>
        public const string FilePlaceholder = "{file}";

        public string Name { get; set; } = "";
        public string[] Aliases { get; set; } = Array.Empty<string>();
        /// <summary>With the dot: ".py".</summary>
        public string Extension { get; set; } = "";
        /// <summary>The image code of this language runs in when no sandbox is given.</summary>
        public string Image { get; set; } = "";
        /// <summary>argv; <see cref="FilePlaceholder"/> stands for the file; the user's arguments follow.</summary>
        public string[] RunCommand { get; set; } = Array.Empty<string>();
        /// <summary>Files in a project folder that mark a project of this language (globs on names in the top folder).</summary>
        public string[] DetectFiles { get; set; } = Array.Empty<string>();
        /// <summary>The base image -Build starts from; null: <see cref="Image"/>.</summary>
        public string? BuildImage { get; set; }
        /// <summary>Shell commands run in the copied project at build time to install its dependencies; null: none.</summary>
        public string? InstallCommand { get; set; }
        /// <summary>Environment set in built images (e.g. pip's switch for system-managed Pythons).</summary>
        public IDictionary<string, string> BuildEnvironment { get; set; } = new Dictionary<string, string>();

        public string EffectiveBuildImage => string.IsNullOrEmpty(BuildImage) ? Image : BuildImage!;

        public bool Matches(string nameOrAlias) =>
            string.Equals(Name, nameOrAlias, StringComparison.OrdinalIgnoreCase) ||
            Aliases.Any(a => string.Equals(a, nameOrAlias, StringComparison.OrdinalIgnoreCase));

        /// <summary>The program <see cref="RunCommand"/> starts (the interpreter); for 'env python3', python3.</summary>
        public string Interpreter
        {
            get
            {
                var program = RunCommand.FirstOrDefault() ?? "";
                var name = program.Substring(program.LastIndexOf('/') + 1);
                return name == "env" && RunCommand.Length > 1 ? RunCommand[1] : program;
            }
        }

        static readonly System.Text.RegularExpressions.Regex NamePattern =
            new System.Text.RegularExpressions.Regex(@"^[A-Za-z0-9][A-Za-z0-9_.+#-]*\z");

        static readonly System.Text.RegularExpressions.Regex ExtensionPattern =
            new System.Text.RegularExpressions.Regex(@"^\.[A-Za-z0-9_+-]+(\.[A-Za-z0-9_+-]+)*\z");

        /// <summary>Throws InvalidLanguageDefinition naming the first field a user must fix.</summary>
        public void Validate()
        {
            if (Name == null || !NamePattern.IsMatch(Name))
                throw Invalid($"'{Name}' is not a language name: use letters, digits and '_', '.', '+', '#', '-', starting with a letter or digit.");
            foreach (var alias in Aliases ?? Array.Empty<string>())
                if (alias == null || !NamePattern.IsMatch(alias))
                    throw Invalid($"'{alias}' is not an alias for language '{Name}': use letters, digits and '_', '.', '+', '#', '-', starting with a letter or digit.");
            if (Extension == null || !ExtensionPattern.IsMatch(Extension))
                throw Invalid($"'{Extension}' is not a file extension for language '{Name}': give it with its dot, such as '.py'.");
            if (string.IsNullOrWhiteSpace(Image))
                throw Invalid($"Language '{Name}' has no image: give the image its code runs in when no sandbox is given, such as 'python:3.12-slim'.");
            ImageReference.Validate(Image);
            if (!string.IsNullOrEmpty(BuildImage)) ImageReference.Validate(BuildImage!);
            if (RunCommand == null || RunCommand.Length == 0 || RunCommand.Any(string.IsNullOrEmpty) || RunCommand[0].Trim().Length == 0)
                throw Invalid($"Language '{Name}' has no run command: give the program and its arguments, with {FilePlaceholder} for the code file, such as 'python3', '{FilePlaceholder}'.");
            if (!RunCommand.Any(a => a.Contains(FilePlaceholder)))
                throw Invalid($"The run command of language '{Name}' ({string.Join(" ", RunCommand)}) does not contain {FilePlaceholder}, where the path of the code file goes.");
            if (RunCommand[0].Contains(FilePlaceholder))
                throw Invalid($"The run command of language '{Name}' starts with {FilePlaceholder}; start it with the interpreter, such as 'python3', '{FilePlaceholder}'.");
            foreach (var pattern in DetectFiles ?? Array.Empty<string>())
                if (string.IsNullOrWhiteSpace(pattern) || pattern.IndexOfAny(new[] { '/', '\\' }) >= 0)
                    throw Invalid($"'{pattern}' is not a detect file for language '{Name}': give a file name or a wildcard on names in the project's top folder, such as 'requirements.txt' or '*.csproj'.");
        }

        SandboxException Invalid(string message) =>
            new SandboxException("InvalidLanguageDefinition", SandboxErrorKind.InvalidArgument, message, Name);

        public LanguageDefinition Clone() => new LanguageDefinition
        {
            Name = Name, Aliases = (string[])Aliases.Clone(), Extension = Extension, Image = Image,
            RunCommand = (string[])RunCommand.Clone(), DetectFiles = (string[])DetectFiles.Clone(),
            BuildImage = BuildImage, InstallCommand = InstallCommand,
            BuildEnvironment = new Dictionary<string, string>(BuildEnvironment),
        };
    }
}
