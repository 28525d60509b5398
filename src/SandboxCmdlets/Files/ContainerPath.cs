using System;

namespace Sandbox.Files
{
    /// <summary>POSIX path helpers for paths inside the sandbox, whatever the client's OS.</summary>
    public static class ContainerPath
    {
        public static string Combine(string a, string b) => b.StartsWith("/", StringComparison.Ordinal) ? b : a.TrimEnd('/') + "/" + b;

        public static string Parent(string path)
        {
            var trimmed = path.TrimEnd('/');
            var slash = trimmed.LastIndexOf('/');
            return slash <= 0 ? "/" : trimmed.Substring(0, slash);
        }

        public static string Name(string path)
        {
            var trimmed = path.TrimEnd('/');
            return trimmed.Substring(trimmed.LastIndexOf('/') + 1);
        }

        public static string Resolve(string workingDirectory, string path) =>
            path.StartsWith("/", StringComparison.Ordinal) ? path : Combine(workingDirectory, path.StartsWith("./", StringComparison.Ordinal) ? path.Substring(2) : path);
    }
}
