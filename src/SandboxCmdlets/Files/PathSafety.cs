using System;
using System.IO;
using System.Linq;

namespace Sandbox.Files
{
    /// <summary>Keeps what an archive from a sandbox writes inside the chosen destination.</summary>
    public static class PathSafety
    {
        /// <summary>
        /// The local path for an archive entry, or null when the entry would land outside <paramref name="root"/>:
        /// absolute names, drive letters and any '..' component are refused outright, not normalised away.
        /// </summary>
        public static string? ResolveEntry(string root, string entryName)
        {
            if (string.IsNullOrEmpty(entryName)) return null;
            var name = entryName.Replace('\\', '/');
            if (name.StartsWith("/", StringComparison.Ordinal) || (name.Length >= 2 && name[1] == ':')) return null;
            var parts = name.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
            if (parts.Length == 0 || parts.Any(p => p == ".." || p.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)) return null;
            var fullRoot = Path.GetFullPath(root);
            var full = Path.GetFullPath(Path.Combine(new[] { fullRoot }.Concat(parts).ToArray()));
            return IsInside(fullRoot, full) ? full : null;
        }

        /// <summary>True when a symlink at <paramref name="linkPath"/> pointing at <paramref name="target"/> stays inside root.</summary>
        public static bool IsLinkInside(string root, string linkPath, string target)
        {
            if (string.IsNullOrEmpty(target)) return false;
            var t = target.Replace('\\', '/');
            if (t.StartsWith("/", StringComparison.Ordinal) || (t.Length >= 2 && t[1] == ':')) return false;
            // 'x/..' is only the folder it looks like when x is not itself a link (made earlier or later in the same archive):
            // accept only targets whose '..' all come first, so that each link is inside wherever the others point.
            var seenName = false;
            foreach (var part in t.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries))
            {
                if (part == "..") { if (seenName) return false; }
                else if (part != ".") seenName = true;
            }
            var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(linkPath)!, t));
            return IsInside(Path.GetFullPath(root), resolved);
        }

        /// <summary>True when some folder between root and path (exclusive of root) is a symlink or junction.</summary>
        public static bool PassesThroughLink(string root, string path)
        {
            var fullRoot = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            while (dir != null && dir.Length > fullRoot.Length)
            {
                if (IsLink(dir)) return true;
                dir = Path.GetDirectoryName(dir);
            }
            return false;
        }

        public static bool IsLink(string path)
        {
            try { return (File.GetAttributes(path) & FileAttributes.ReparsePoint) != 0; }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }

        /// <summary>Removes a symlink or junction at <paramref name="path"/> itself, never what it points to; anything else stays.</summary>
        public static void RemoveLink(string path)
        {
            if (!IsLink(path)) return;
            // Windows keeps a link to a folder as a folder, which only Directory.Delete removes (without recursing into it).
            if (Path.DirectorySeparatorChar == '\\' && (File.GetAttributes(path) & FileAttributes.Directory) != 0) Directory.Delete(path, recursive: false);
            else File.Delete(path);
        }

        public static bool IsInside(string fullRoot, string fullPath)
        {
            var comparison = Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            var rootWithSeparator = fullRoot.EndsWith(Path.DirectorySeparatorChar.ToString(), StringComparison.Ordinal) ? fullRoot : fullRoot + Path.DirectorySeparatorChar;
            return string.Equals(fullPath, fullRoot.TrimEnd(Path.DirectorySeparatorChar), comparison) || fullPath.StartsWith(rootWithSeparator, comparison);
        }
    }
}
