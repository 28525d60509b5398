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

        // $1 $2: the deadline as engine-clock epoch seconds and the fraction of that second ("0.250"); 0: none. Absolute,
        // because the engine may start the sandbox seconds after creating it under load, and the deadline counts from
        // creation. The deadline file, when present (whole epoch seconds, rounded up; 0: none), wins; it keeps the format
        // every version of the module reads. The shell's clock has whole seconds only, so a second before the deadline
        // the loop polls in tenths to catch the turn of the second, then sleeps the fraction. An image whose sleep takes
        // no fractions rounds the deadline up to the next second instead. 'read' is a builtin: far from the deadline the
        // loop forks only date and sleep, once a second.
        const string Script =
            "D=$1; F=${2:-0}; " +
            "if ! sleep 0.01 2>/dev/null; then [ \"$F\" != 0 ] && D=$((D + 1)); F=0; C=1; else C=0; fi; " +
            "while :; do " +
            "if [ -r " + FilePath + " ]; then read A < " + FilePath + " && [ \"$A\" -ge 0 ] 2>/dev/null && { D=$A; F=0; }; fi; " +
            "if [ \"$D\" -gt 0 ]; then " +
            "N=$(date +%s); " +
            "[ \"$N\" -gt \"$D\" ] && exit 0; " +
            "if [ \"$N\" -eq \"$D\" ]; then [ $C = 0 ] && sleep $F; exit 0; fi; " +
            "if [ $((D - N)) -le 1 ] && [ $C = 0 ]; then sleep 0.1; continue; fi; " +
            "fi; " +
            "sleep 1; " +
            "done";

        public static IList<string> Entrypoint => new List<string> { "/bin/sh", "-c", Script, "sandbox-deadline" };

        /// <summary>The arguments PID 1 gets: the deadline (null: none) as epoch seconds and fraction.</summary>
        public static IList<string> Command(DateTime? deadlineUtc)
        {
            var (seconds, fraction) = Split(deadlineUtc);
            return new List<string> { seconds, fraction };
        }

        static (string Seconds, string Fraction) Split(DateTime? deadlineUtc)
        {
            if (deadlineUtc == null) return ("0", "0");
            var ticks = (deadlineUtc.Value.ToUniversalTime() - UnixTime.Epoch).Ticks;
            var seconds = ticks / TimeSpan.TicksPerSecond;
            var millis = (ticks % TimeSpan.TicksPerSecond) / TimeSpan.TicksPerMillisecond;
            return (seconds.ToString(CultureInfo.InvariantCulture), millis == 0 ? "0" : "0." + millis.ToString("000", CultureInfo.InvariantCulture));
        }

        /// <summary>A one-file tar holding the deadline, for the engine's archive API.</summary>
        public static MemoryStream Archive(DateTime? deadlineUtc)
        {
            var wholeSeconds = deadlineUtc == null ? 0
                : ((deadlineUtc.Value.ToUniversalTime() - UnixTime.Epoch).Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;
            var content = Encoding.ASCII.GetBytes(wholeSeconds.ToString(CultureInfo.InvariantCulture) + "\n");
            var buffer = new MemoryStream();
            var tar = new Files.TarWriter(buffer);
            using (var data = new MemoryStream(content))
                tar.WriteFileAsync(FileName, 0x1A4, DateTime.UtcNow, data, content.Length, null, default).GetAwaiter().GetResult();
            tar.FinishAsync(default).GetAwaiter().GetResult();
            buffer.Position = 0;
            return buffer;
        }

        /// <summary>Reads a deadline file (whole epoch seconds); the deadline is null when the file says none (0).</summary>
        public static bool TryParse(string text, out DateTime? deadlineUtc)
        {
            deadlineUtc = null;
            if (!long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return false;
            if (seconds > 0) deadlineUtc = UnixTime.Epoch.AddSeconds(seconds);
            return true;
        }
    }
}
