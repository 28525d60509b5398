using System;
using System.Text.RegularExpressions;

namespace Sandbox.Lifecycle
{
    /// <summary>The rules for a sandbox's container name.</summary>
    public static class SandboxNames
    {
        static readonly Regex NamePattern = new Regex(@"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}\z");

        public static void Validate(string name)
        {
            if (!NamePattern.IsMatch(name))
                throw new SandboxException("InvalidSandboxName", SandboxErrorKind.InvalidArgument,
                    $"'{name}' is not a valid sandbox name. Use letters, digits, '_', '.' and '-', starting with a letter or digit (at most 128).", name);
        }

        static readonly Regex ServiceNamePattern = new Regex(@"^[a-zA-Z0-9](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?\z");

        /// <summary>On a cluster the name is a swarm service's, which is also a DNS label.</summary>
        public static void ValidateForService(string name)
        {
            if (!ServiceNamePattern.IsMatch(name))
                throw new SandboxException("InvalidSandboxName", SandboxErrorKind.InvalidArgument,
                    $"'{name}' cannot name a sandbox on a cluster, where it is a service name: use letters, digits, '_' and '-', starting and ending with a letter or digit (at most 63).", name);
        }

        public static string New(string? projectId)
        {
            var suffix = Guid.NewGuid().ToString("N").Substring(0, 8);
            if (string.IsNullOrEmpty(projectId)) return "sandbox-" + suffix;
            var safe = Regex.Replace(projectId!, "[^a-zA-Z0-9_.-]", "-").Trim('-', '.', '_');
            if (safe.Length > 40) safe = safe.Substring(0, 40);
            return safe.Length == 0 ? "sandbox-" + suffix : $"sandbox-{safe}-{suffix.Substring(0, 4)}";
        }
    }
}
