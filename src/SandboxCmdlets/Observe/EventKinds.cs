using System;
using System.Collections.Generic;
using System.Globalization;
using Docker.DotNet.Models;

namespace Sandbox.Observe
{
    /// <summary>The engine's container events, in the words of this module.</summary>
    public static class EventKinds
    {
        public const string Created = "created";
        public const string Started = "started";
        public const string Command = "command";
        public const string Oom = "oom";
        public const string Died = "died";
        public const string Expired = "expired";
        public const string Removed = "removed";
        public const string Suspended = "suspended";
        public const string Resumed = "resumed";
        public const string Snapshot = "snapshot";

        /// <summary>The engine actions asked for (exec_start matches "exec_start: &lt;command&gt;" too).</summary>
        public static readonly string[] EngineActions = { "create", "start", "exec_start", "oom", "die", "destroy", "pause", "unpause", "commit" };

        /// <summary>How long after its deadline a sandbox's death still counts as its expiry (a cleanup engine's removal).</summary>
        public static readonly TimeSpan ExpiryGrace = TimeSpan.FromSeconds(5);

        /// <summary>
        /// The kind of a container event, or null for one this module does not show. A sandbox dies with exit code 0 only
        /// when PID 1, the deadline guard, ends it at its deadline (Stop-Sandbox and the engine kill it, which is 137):
        /// that is 'expired'. So is a death in the seconds after the deadline it started with (<paramref name="pastDeadline"/>),
        /// when a cleanup engine removed it at its deadline before the guard ended it.
        /// </summary>
        public static string? KindOf(string? action, int? exitCode, bool pastDeadline = false)
        {
            if (string.IsNullOrEmpty(action)) return null;
            var name = action!.Split(new[] { ':' }, 2)[0].Trim();
            return name switch
            {
                "create" => Created,
                "start" => Started,
                "exec_start" => Command,
                "oom" => Oom,
                "die" => exitCode == 0 || pastDeadline ? Expired : Died,
                "destroy" => Removed,
                "pause" => Suspended,
                "unpause" => Resumed,
                "commit" => Snapshot,
                _ => null,
            };
        }

        /// <summary>The event as a <see cref="SandboxEvent"/>; null when it is not a container event this module shows.</summary>
        public static SandboxEvent? ToEvent(Message message, string dockerHost)
        {
            if (!string.Equals(message.Type, "container", StringComparison.Ordinal)) return null;
            var attributes = message.Actor?.Attributes ?? new Dictionary<string, string>();
            int? exitCode = attributes.TryGetValue("exitCode", out var code) && int.TryParse(code, NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) ? c : (int?)null;
            var time = TimeOf(message);
            var kind = KindOf(message.Action, exitCode, JustPastDeadline(attributes, time));
            if (kind == null) return null;
            return new SandboxEvent
            {
                Time = time,
                Name = attributes.TryGetValue("name", out var name) ? name : "",
                Id = message.Actor?.ID ?? "",
                Kind = kind,
                Action = message.Action.Split(new[] { ':' }, 2)[0].Trim(),
                ExitCode = kind == Died || kind == Expired ? exitCode : null,
                Detail = DetailOf(kind, message.Action, attributes, exitCode),
                DockerHost = dockerHost,
            };
        }

        static string? DetailOf(string kind, string action, IDictionary<string, string> attributes, int? exitCode)
        {
            switch (kind)
            {
                case Command:
                    var colon = action.IndexOf(':');
                    return colon < 0 ? null : action.Substring(colon + 1).Trim();
                case Died:
                case Expired:
                    return exitCode is int e ? $"exit code {e}" : null;
                case Snapshot:
                    return attributes.TryGetValue("imageRef", out var reference) && reference.Length > 0 ? reference
                        : attributes.TryGetValue("imageID", out var image) ? image : null;
                case Created:
                    return attributes.TryGetValue("image", out var from) ? from : null;
                default:
                    return null;
            }
        }

        /// <summary>
        /// Whether <paramref name="time"/> is within <see cref="ExpiryGrace"/> after the deadline in the sandbox's labels (the
        /// one it started with: Set-Sandbox moves only the deadline file, so a moved deadline is not seen here).
        /// </summary>
        static bool JustPastDeadline(IDictionary<string, string> attributes, DateTime time)
        {
            if (!attributes.TryGetValue(Lifecycle.SandboxLabels.Expires, out var text) ||
                !long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) || seconds <= 0) return false;
            // The label holds the deadline cut down to whole seconds.
            var deadline = UnixTime.Epoch.AddSeconds(seconds);
            return time >= deadline && time <= deadline.AddSeconds(1) + ExpiryGrace;
        }

        static DateTime TimeOf(Message message)
        {
            if (message.TimeNano is long nanos && nanos > 0) return UnixTime.Epoch.AddTicks(nanos / 100);
            return UnixTime.Epoch.AddSeconds(message.Time ?? 0);
        }
    }
}
