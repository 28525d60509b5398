using System;
using System.Collections.Generic;
using System.Linq;

namespace Sandbox.Exec
{
    /// <summary>A command in a sandbox exited with a non-zero code: the error of -ErrorOnExitCode, with what the command said last on stderr.</summary>
    public sealed class SandboxCommandFailedException : Exception
    {
        public int ExitCode { get; }
        public string Command { get; }
        public string SandboxName { get; }
        /// <summary>The last lines the command wrote to stderr (at most ten), oldest first.</summary>
        public IReadOnlyList<string> StdErrTail { get; }

        public SandboxCommandFailedException(string command, string sandboxName, int exitCode, IReadOnlyList<string> stdErrTail)
            : base(Describe(command, sandboxName, exitCode, stdErrTail))
        {
            Command = command;
            SandboxName = sandboxName;
            ExitCode = exitCode;
            StdErrTail = stdErrTail;
        }

        static string Describe(string command, string sandboxName, int exitCode, IReadOnlyList<string> tail)
        {
            var head = $"'{command}' in sandbox '{sandboxName}' exited with code {exitCode}";
            var lines = tail.Where(l => l.Trim().Length > 0).ToList();
            if (lines.Count == 0) return head + " and wrote nothing to stderr.";
            return head + ". Its last lines on stderr:" + string.Concat(lines.Select(l => "\n  " + l));
        }
    }
}
