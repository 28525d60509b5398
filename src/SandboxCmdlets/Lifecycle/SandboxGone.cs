using System;
using System.Text.RegularExpressions;
using Docker.DotNet;

namespace Sandbox.Lifecycle
{
    /// <summary>
    /// The errors for a sandbox that the engine no longer has or no longer runs. The engine calls know only the container
    /// id; the cmdlet that holds the Sandbox object names it (<see cref="Named"/>), so that users read the name they know
    /// (with the short id), never the 64 hex digits.
    /// </summary>
    public static class SandboxGone
    {
        const string NotFoundId = "SandboxNotFound";
        const string NotRunningId = "SandboxNotRunning";
        const string Advice = "Get-Sandbox lists the sandboxes that exist; New-Sandbox makes a new one.";

        public static SandboxException NotFound(string containerId, Exception? inner = null) =>
            new SandboxException(NotFoundId, SandboxErrorKind.ObjectNotFound, NotFoundMessage(ShortId(containerId)), containerId, Advice, inner);

        public static SandboxException NotFound(Sandbox sandbox, Exception? inner = null) =>
            new SandboxException(NotFoundId, SandboxErrorKind.ObjectNotFound, NotFoundMessage(Label(sandbox)), sandbox.Name, Advice, inner);

        /// <summary>The engine refused to work in a container that is paused, stopped or on its way out.</summary>
        public static SandboxException NotRunning(string containerId, DockerApiException inner) =>
            IsPaused(inner) ? Suspended(ShortId(containerId), containerId, inner)
            : new SandboxException(NotRunningId, SandboxErrorKind.InvalidOperation, NotRunningMessage(ShortId(containerId), containerId, inner), containerId, null, inner);

        /// <summary>The engine refuses exec in a paused container ("... is paused, unpause the container before exec").</summary>
        static bool IsPaused(DockerApiException e) => Regex.IsMatch(EngineErrors.Message(e), @"\bis paused\b", RegexOptions.IgnoreCase);

        static SandboxException Suspended(string label, object target, DockerApiException inner) =>
            new SandboxException(SuspendedId, SandboxErrorKind.InvalidOperation,
                $"Sandbox {label} is suspended: nothing runs in it until it is resumed.", target, "Resume it with Resume-Sandbox, then run the command again.", inner);

        const string SuspendedId = "SandboxSuspended";

        /// <summary>The same error about the sandbox by its name, when <paramref name="e"/> is one of these about its container.</summary>
        public static Exception Named(Exception e, Sandbox sandbox)
        {
            if (!(e is SandboxException s) || !(s.Target is string id) || !string.Equals(id, sandbox.Id, StringComparison.OrdinalIgnoreCase)) return e;
            if (s.ErrorId == NotFoundId) return NotFound(sandbox, s.InnerException);
            if (s.ErrorId == SuspendedId && s.InnerException is DockerApiException paused) return Suspended(Label(sandbox), sandbox.Name, paused);
            if (s.ErrorId == NotRunningId && s.InnerException is DockerApiException api)
                return new SandboxException(NotRunningId, SandboxErrorKind.InvalidOperation, NotRunningMessage(Label(sandbox), sandbox.Id, api), sandbox.Name, null, api);
            return e;
        }

        static string NotFoundMessage(string label) =>
            $"Sandbox {label} no longer exists: it was stopped, reached its deadline, or another process removed it.";

        /// <summary>The engine's reason, which names the container by its full id: that id is already in the label.</summary>
        static string NotRunningMessage(string label, string containerId, DockerApiException e)
        {
            var reason = Regex.Replace(EngineErrors.Message(e), "(?i)(container )?" + Regex.Escape(containerId), "the container");
            return $"Sandbox {label} is not running: {reason}";
        }

        static string Label(Sandbox sandbox) => $"'{sandbox.Name}' ({sandbox.ShortId})";

        static string ShortId(string containerId) => containerId.Length > 12 ? containerId.Substring(0, 12) : containerId;
    }
}
