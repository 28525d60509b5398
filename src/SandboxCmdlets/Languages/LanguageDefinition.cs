using System;
using System.Collections.Generic;
using System.Linq;

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

        public LanguageDefinition Clone() => new LanguageDefinition
        {
            Name = Name, Aliases = (string[])Aliases.Clone(), Extension = Extension, Image = Image,
            RunCommand = (string[])RunCommand.Clone(), DetectFiles = (string[])DetectFiles.Clone(),
            BuildImage = BuildImage, InstallCommand = InstallCommand,
            BuildEnvironment = new Dictionary<string, string>(BuildEnvironment),
        };
    }
}
