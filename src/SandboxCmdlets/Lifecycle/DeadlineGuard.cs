using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace Sandbox.Lifecycle
{
    /// <summary>
    /// The sandbox's own deadline, the layer that holds when no PowerShell is left: PID 1 (under the engine's init, with
    /// auto-remove) is a small shell loop that exits at the deadline. The current deadline lives in a file on a volume
    /// that is mounted read-only in the sandbox, so code inside cannot move it; Set-Sandbox rewrites it from outside.
    /// </summary>
    public static class DeadlineGuard
    {
        public const string Folder = "/run/sandbox";
        public const string FileName = "deadline";
        public const string FilePath = Folder + "/" + FileName;

        // $1: the timeout in seconds from start (0: none). The deadline file, when present, holds engine-clock epoch
        // seconds (0: none) and wins. 'read' is a shell builtin, so the loop forks only date and sleep.
        const string Script =
            "T=$1; D=0; [ \"$T\" -gt 0 ] && D=$(( $(date +%s) + T )); " +
            "while :; do " +
            "if [ -r " + FilePath + " ]; then read F < " + FilePath + " && [ \"$F\" -ge 0 ] 2>/dev/null && D=$F; fi; " +
            "if [ \"$D\" -gt 0 ]; then N=$(date +%s); [ \"$N\" -ge \"$D\" ] 2>/dev/null && exit 0; fi; " +
            "sleep 1; " +
            "done";

        public static IList<string> Entrypoint => new List<string> { "/bin/sh", "-c", Script, "sandbox-deadline" };

        public static IList<string> Command(int timeoutSec) => new List<string> { timeoutSec.ToString(CultureInfo.InvariantCulture) };

        /// <summary>A one-file tar holding the deadline, for the engine's archive API.</summary>
        public static MemoryStream Archive(long epochSeconds)
        {
            var content = Encoding.ASCII.GetBytes(epochSeconds.ToString(CultureInfo.InvariantCulture) + "\n");
            var buffer = new MemoryStream();
            var tar = new Files.TarWriter(buffer);
            using (var data = new MemoryStream(content))
                tar.WriteFileAsync(FileName, 0x1A4, DateTime.UtcNow, data, content.Length, null, default).GetAwaiter().GetResult();
            tar.FinishAsync(default).GetAwaiter().GetResult();
            buffer.Position = 0;
            return buffer;
        }

        public static long? Parse(string text) =>
            long.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0 ? value : (long?)null;
    }

    /// <summary>Deadlines moved by Set-Sandbox in this process, which labels cannot show.</summary>
    public static class DeadlineOverrides
    {
        static readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTime?> ById = new System.Collections.Concurrent.ConcurrentDictionary<string, DateTime?>();

        public static void Set(string id, DateTime? expiresAt) => ById[id] = expiresAt;
        public static bool Has(string id) => ById.ContainsKey(id);
        public static void Forget(string id) => ById.TryRemove(id, out _);

        public static void Apply(Sandbox sandbox)
        {
            if (ById.TryGetValue(sandbox.Id, out var expiresAt)) sandbox.ExpiresAt = expiresAt;
        }
    }
}
