using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace Sandbox.Build
{
    /// <summary>
    /// The patterns of a .dockerignore file, matched as Docker matches them (moby/patternmatcher): each line is a
    /// path pattern relative to the context root, cleaned like Go's filepath.Clean; '*' and '?' never cross a '/',
    /// '**' crosses any number of folders, '[...]' is a character class, '\' escapes; a leading '!' re-includes;
    /// the last matching line wins; a pattern that matches a folder matches everything in it; '#' starts a comment.
    /// </summary>
    public sealed class DockerIgnore
    {
        public const string FileName = ".dockerignore";

        readonly List<Pattern> _patterns;

        DockerIgnore(List<Pattern> patterns) => _patterns = patterns;

        public static DockerIgnore Empty { get; } = new DockerIgnore(new List<Pattern>());

        public bool HasExceptions => _patterns.Any(p => p.Exception);

        /// <summary>The cleaned patterns, exceptions with their '!', in file order.</summary>
        public IReadOnlyList<string> Patterns => _patterns.Select(p => (p.Exception ? "!" : "") + p.Text).ToList();

        public static DockerIgnore Load(string contextFolder)
        {
            var path = Path.Combine(contextFolder, FileName);
            return File.Exists(path) ? Parse(File.ReadAllText(path)) : Empty;
        }

        public static DockerIgnore Parse(string text)
        {
            var patterns = new List<Pattern>();
            var lines = text.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i];
                if (i == 0) line = line.TrimStart('\uFEFF');
                line = line.Trim();
                if (line.Length == 0 || line[0] == '#') continue;
                var exception = line[0] == '!';
                if (exception) line = line.Substring(1).Trim();
                if (line.Length == 0)
                    throw new FormatException($"Line {i + 1} of {FileName} is a lone '!': an exception needs a pattern after it.");
                line = Clean(line);
                if (line.Length > 1 && line[0] == '/') line = line.Substring(1);
                patterns.Add(new Pattern(line, exception));
            }
            return new DockerIgnore(patterns);
        }

        /// <summary>Whether Docker leaves <paramref name="relativePath"/> ('/'-separated) out of the context.</summary>
        public bool IsExcluded(string relativePath)
        {
            var parents = ParentChain(relativePath);
            var excluded = false;
            foreach (var pattern in _patterns)
            {
                // An inclusion cannot change an already excluded path, nor an exception an included one.
                if (pattern.Exception != excluded) continue;
                var match = pattern.IsMatch(relativePath) || parents.Any(pattern.IsMatch);
                if (match) excluded = !pattern.Exception;
            }
            return excluded;
        }

        /// <summary>
        /// Whether an exception could re-include something inside the excluded folder <paramref name="relativeFolder"/>,
        /// so that the walk must go into it. Errs towards yes: the files found are still matched one by one.
        /// </summary>
        public bool MayIncludeInside(string relativeFolder)
        {
            var folderParts = relativeFolder.Split('/');
            foreach (var pattern in _patterns.Where(p => p.Exception))
            {
                var parts = pattern.Text.Split('/');
                var compatible = true;
                for (var i = 0; i < folderParts.Length && compatible; i++)
                {
                    if (i >= parts.Length) { compatible = false; break; }
                    if (Pattern.HasWildcard(parts[i])) break;
                    compatible = string.Equals(Unescape(parts[i]), folderParts[i], StringComparison.Ordinal);
                }
                if (compatible) return true;
            }
            return false;
        }

        static string Unescape(string text) => Regex.Replace(text, @"\\(.)", "$1");

        static IEnumerable<string> ParentChain(string path)
        {
            var index = path.IndexOf('/');
            while (index > 0)
            {
                yield return path.Substring(0, index);
                index = path.IndexOf('/', index + 1);
            }
        }

        /// <summary>Go's path.Clean: no empty or '.' components, '..' resolved, no trailing '/'.</summary>
        public static string Clean(string path)
        {
            var rooted = path.StartsWith("/", StringComparison.Ordinal);
            var parts = new List<string>();
            foreach (var part in path.Split('/'))
            {
                if (part.Length == 0 || part == ".") continue;
                if (part == "..")
                {
                    if (parts.Count > 0 && parts[parts.Count - 1] != "..") parts.RemoveAt(parts.Count - 1);
                    else if (!rooted) parts.Add("..");
                    continue;
                }
                parts.Add(part);
            }
            var joined = string.Join("/", parts);
            if (rooted) return "/" + joined;
            return joined.Length == 0 ? "." : joined;
        }

        sealed class Pattern
        {
            public string Text { get; }
            public bool Exception { get; }
            readonly Regex _regex;

            public Pattern(string text, bool exception)
            {
                Text = text;
                Exception = exception;
                _regex = new Regex(ToRegex(text), RegexOptions.CultureInvariant | RegexOptions.Singleline);
            }

            public bool IsMatch(string path) => _regex.IsMatch(path);

            public static bool HasWildcard(string part)
            {
                for (var i = 0; i < part.Length; i++)
                {
                    if (part[i] == '\\') { i++; continue; }
                    if (part[i] == '*' || part[i] == '?' || part[i] == '[') return true;
                }
                return false;
            }

            static string ToRegex(string pattern)
            {
                var regex = new StringBuilder("^");
                var inClass = false;
                for (var i = 0; i < pattern.Length; i++)
                {
                    var c = pattern[i];
                    if (inClass)
                    {
                        if (c == ']') { regex.Append(']'); inClass = false; }
                        else if (c == '\\' && i + 1 < pattern.Length) regex.Append('\\').Append(pattern[++i]);
                        else if (c == '[') regex.Append(@"\[");
                        else regex.Append(c);
                        continue;
                    }
                    switch (c)
                    {
                        case '*':
                            if (i + 1 < pattern.Length && pattern[i + 1] == '*')
                            {
                                i++;
                                if (i + 1 < pattern.Length && pattern[i + 1] == '/') i++;
                                // "**" at the end takes anything; elsewhere any number of whole folders, even none.
                                regex.Append(i + 1 >= pattern.Length ? ".*" : "(.*/)?");
                            }
                            else regex.Append("[^/]*");
                            break;
                        case '?':
                            regex.Append("[^/]");
                            break;
                        case '[':
                            regex.Append('[');
                            if (i + 1 < pattern.Length && pattern[i + 1] == '^') { regex.Append('^'); i++; }
                            inClass = true;
                            break;
                        case '\\':
                            regex.Append(i + 1 < pattern.Length ? Regex.Escape(pattern[++i].ToString()) : @"\\");
                            break;
                        default:
                            regex.Append(Regex.Escape(c.ToString()));
                            break;
                    }
                }
                if (inClass) throw new FormatException($"'{pattern}' in {FileName} has a '[' without its ']'.");
                return regex.Append(@"\z").ToString();
            }
        }
    }
}
