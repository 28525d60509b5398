using System;
using System.Collections.Generic;
using System.Linq;
using Sandbox.Lifecycle;

namespace Sandbox.Languages
{
    /// <summary>
    /// The process-wide table of languages, in detection order (the first whose files a project has wins; "shell"
    /// detects nothing and is the fallback). Built-in entries can be replaced; <see cref="Reset"/> restores them.
    /// </summary>
    public static class LanguageTable
    {
        static readonly object Gate = new object();
        static List<LanguageDefinition> _entries = BuiltIn();

        public static string ShellLanguage => "shell";

        public static IReadOnlyList<LanguageDefinition> All
        {
            get { lock (Gate) return _entries.Select(e => e.Clone()).ToList(); }
        }

        /// <summary>The entry named or aliased so; null when none.</summary>
        public static LanguageDefinition? Find(string nameOrAlias)
        {
            lock (Gate) return _entries.FirstOrDefault(e => e.Matches(nameOrAlias))?.Clone();
        }

        /// <summary>The entry named or aliased so; throws UnknownLanguage, listing the known ones, when none.</summary>
        public static LanguageDefinition Get(string nameOrAlias)
        {
            var found = Find(nameOrAlias.Trim());
            if (found != null) return found;
            throw new SandboxException("UnknownLanguage", SandboxErrorKind.ObjectNotFound,
                $"There is no language '{nameOrAlias}'. Known languages: {KnownNames()}.", nameOrAlias,
                "Use one of those names or aliases (Get-SandboxLanguage lists them), or add the language with Register-SandboxLanguage.");
        }

        /// <summary>The first entry, in table order, whose extension is <paramref name="extension"/> (with its dot); null when none.</summary>
        public static LanguageDefinition? FindByExtension(string extension)
        {
            lock (Gate) return _entries.FirstOrDefault(e => string.Equals(e.Extension, extension, StringComparison.OrdinalIgnoreCase))?.Clone();
        }

        /// <summary>"python (py, python3), node (...)": what an error about an unknown language offers instead.</summary>
        public static string KnownNames()
        {
            lock (Gate)
                return string.Join(", ", _entries.Select(e => e.Aliases.Length == 0 ? e.Name : $"{e.Name} ({string.Join(", ", e.Aliases)})"));
        }

        /// <summary>The other entry one of whose names <paramref name="definition"/> would take; null when its names are free.</summary>
        public static LanguageDefinition? Conflict(LanguageDefinition definition)
        {
            var names = new[] { definition.Name }.Concat(definition.Aliases).ToList();
            lock (Gate)
                return _entries.FirstOrDefault(e => !string.Equals(e.Name, definition.Name, StringComparison.OrdinalIgnoreCase) && names.Any(e.Matches))?.Clone();
        }

        /// <summary>Adds an entry, or replaces the one of the same name (kept in its place in detection order).</summary>
        public static void Register(LanguageDefinition definition)
        {
            if (definition == null) throw new ArgumentNullException(nameof(definition));
            lock (Gate)
            {
                var copy = definition.Clone();
                var index = _entries.FindIndex(e => string.Equals(e.Name, copy.Name, StringComparison.OrdinalIgnoreCase));
                if (index >= 0) _entries[index] = copy;
                // New entries detect before the shell fallback.
                else _entries.Insert(Math.Max(0, _entries.FindIndex(e => e.Name == ShellLanguage)), copy);
            }
        }

        public static void Reset()
        {
            lock (Gate) _entries = BuiltIn();
        }

        static List<LanguageDefinition> BuiltIn() => new List<LanguageDefinition>
        {
            new LanguageDefinition
            {
                Name = "python", Aliases = new[] { "py", "python3" }, Extension = ".py", Image = "python:3.12-slim",
                RunCommand = new[] { "python3", LanguageDefinition.FilePlaceholder },
                DetectFiles = new[] { "requirements.txt", "pyproject.toml" },
                InstallCommand = "if [ -f requirements.txt ]; then python3 -m pip install --no-cache-dir -r requirements.txt; " +
                                 "elif [ -f pyproject.toml ]; then python3 -m pip install --no-cache-dir .; fi",
                // Debian's own Python refuses pip installs (PEP 668) unless told; official python images ignore this.
                BuildEnvironment = new Dictionary<string, string> { ["PIP_BREAK_SYSTEM_PACKAGES"] = "1", ["PIP_DISABLE_PIP_VERSION_CHECK"] = "1" },
            },
            new LanguageDefinition
            {
                Name = "node", Aliases = new[] { "javascript", "js", "nodejs" }, Extension = ".js", Image = "node:20-slim",
                RunCommand = new[] { "node", LanguageDefinition.FilePlaceholder },
                DetectFiles = new[] { "package.json" },
                InstallCommand = "if [ -f package-lock.json ]; then npm ci --omit=dev --no-audit --no-fund; " +
                                 "else npm install --omit=dev --no-audit --no-fund; fi",
            },
            new LanguageDefinition
            {
                Name = "java", Extension = ".java", Image = "eclipse-temurin:21",
                // Java 11+ runs a single source file directly.
                RunCommand = new[] { "java", LanguageDefinition.FilePlaceholder },
                DetectFiles = new[] { "pom.xml", "build.gradle", "build.gradle.kts" },
                BuildImage = "maven:3-eclipse-temurin-21",
                InstallCommand = "if [ -f pom.xml ]; then mvn -q -B dependency:go-offline; " +
                                 "elif [ -x gradlew ]; then ./gradlew --no-daemon dependencies; fi",
            },
            new LanguageDefinition
            {
                Name = "dotnet", Aliases = new[] { "csharp", "c#", "cs" }, Extension = ".cs", Image = "mcr.microsoft.com/dotnet/sdk:10.0",
                // .NET 10 runs a single .cs file.
                RunCommand = new[] { "dotnet", "run", LanguageDefinition.FilePlaceholder },
                DetectFiles = new[] { "*.csproj", "*.sln", "*.slnx" },
                InstallCommand = "dotnet restore",
            },
            new LanguageDefinition
            {
                Name = "go", Aliases = new[] { "golang" }, Extension = ".go", Image = "golang:1.23",
                RunCommand = new[] { "go", "run", LanguageDefinition.FilePlaceholder },
                DetectFiles = new[] { "go.mod" },
                InstallCommand = "go mod download",
            },
            new LanguageDefinition
            {
                Name = "ruby", Aliases = new[] { "rb" }, Extension = ".rb", Image = "ruby:3-slim",
                RunCommand = new[] { "ruby", LanguageDefinition.FilePlaceholder },
                DetectFiles = new[] { "Gemfile" },
                InstallCommand = "bundle install",
            },
            new LanguageDefinition
            {
                Name = "bash", Extension = ".sh", Image = "bash:5",
                RunCommand = new[] { "bash", LanguageDefinition.FilePlaceholder },
            },
            new LanguageDefinition
            {
                Name = "powershell", Aliases = new[] { "pwsh", "ps1" }, Extension = ".ps1", Image = "mcr.microsoft.com/powershell:latest",
                RunCommand = new[] { "pwsh", "-NoProfile", "-NonInteractive", "-File", LanguageDefinition.FilePlaceholder },
            },
            new LanguageDefinition
            {
                Name = ShellLanguage, Aliases = new[] { "sh" }, Extension = ".sh", Image = "debian:bookworm-slim",
                RunCommand = new[] { "/bin/sh", LanguageDefinition.FilePlaceholder },
            },
        };
    }
}
