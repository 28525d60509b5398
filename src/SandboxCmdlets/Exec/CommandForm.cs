using System.Collections.Generic;
using Sandbox.Lifecycle;

namespace Sandbox.Exec
{
    /// <summary>A command is given in exactly one form: a string run by /bin/sh -c, or an argv run without a shell.</summary>
    public static class CommandForm
    {
        /// <summary>Null when exactly one form was given; otherwise the error that says what to give.</summary>
        public static SandboxException? Problem(string? command, IList<string>? argumentList)
        {
            var hasCommand = !string.IsNullOrWhiteSpace(command);
            if (hasCommand && argumentList != null)
                return new SandboxException("CommandAndArgumentList", SandboxErrorKind.InvalidArgument,
                    "Give the command as a string (run by /bin/sh -c) or as -ArgumentList program, arg, ... (run without a shell), not both.");
            if (!hasCommand && argumentList == null)
                return new SandboxException("CommandRequired", SandboxErrorKind.InvalidArgument,
                    "No command was given. Give it as a string, such as 'ls -la' or -Command 'make test' (run by /bin/sh -c), or as -ArgumentList program, arg, ... (run without a shell).");
            return null;
        }
    }
}
