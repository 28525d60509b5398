using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Sandbox.Languages;

namespace Sandbox.Build
{

    public static class ProjectDetector
    {
        /// <summary>The names docker build looks for, in its order.</summary>
        public static readonly string[] DockerfileNames = { "Dockerfile", "dockerfile" };

        public static DetectedProject Detect(string folder)
        {
            var names = Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Where(n => n != null).Select(n => n!)
                .OrderBy(n => n, StringComparer.Ordinal).ToList();
            var dockerfile = DockerfileNames.FirstOrDefault(d => names.Contains(d, StringComparer.Ordinal) && File.Exists(Path.Combine(folder, d)));
            if (dockerfile != null) return new DetectedProject { Folder = folder, DockerfileName = dockerfile };

            foreach (var language in LanguageTable.All)
            {
                foreach (var glob in language.DetectFiles)
                {
                    var marker = names.FirstOrDefault(n => GlobMatches(glob, n) && File.Exists(Path.Combine(folder, n)));
                    if (marker != null) return new DetectedProject { Folder = folder, Language = language, MarkerFile = marker };
                }
            }
            var shell = LanguageTable.Find(LanguageTable.ShellLanguage)
                ?? throw new InvalidOperationException($"The language table has no '{LanguageTable.ShellLanguage}' entry to fall back on.");
            return new DetectedProject { Folder = folder, Language = shell };
        }

        /// <summary>'*' and '?' on one file name; case-insensitive, as project files are spelled either way on Windows.</summary>
        public static bool GlobMatches(string glob, string name)
        {
            var regex = "^" + Regex.Escape(glob).Replace(@"\*", ".*").Replace(@"\?", ".") + @"\z";
            return Regex.IsMatch(name, regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline);
        }
    }
}
