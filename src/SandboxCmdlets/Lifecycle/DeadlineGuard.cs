using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace Sandbox.Lifecycle
{
    /// <summary>
    /// The sandbox's own deadline, the layer that holds when no PowerShell is left: PID 1 (with auto-remove) is a small
    /// shell loop that exits at the deadline. The current deadline lives in a file on a volume that is mounted read-only
    /// in the sandbox, so code inside cannot move it; Set-Sandbox rewrites it from outside.
    /// </summary>
    /// <remarks>
    /// Code inside runs as root with KILL and will try to outlive its deadline. The loop is PID 1 itself, not a child of
    /// the engine's init: the kernel drops every signal from inside the namespace that its init has no handler for,
    /// SIGSTOP and SIGKILL included. It traps none; the handlers bash and busybox sh keep for themselves only make it
    /// exit (kill -INT 1, kill -TERM 1 with bash), which ends the sandbox early, never late, and lets docker stop work at
    /// once. Once it runs it never forks (a child could be stopped, and a held pids limit refuses forks): it sleeps with
    /// the builtin read -t on a file that never has data (a pseudo-terminal nobody can write to), tells the time from
    /// /proc/uptime (boot clock) mapped once to the epoch, and reads the deadline file with the builtin read. A shell
    /// without read -t (dash alone) gets the old loop, which forks date and sleep.
    /// </remarks>
    public static class DeadlineGuard
    {
        public const string Folder = "/run/sandbox";
        public const string FileName = "deadline";
        public const string FilePath = Folder + "/" + FileName;

        /// <summary>What PID 1 is called in ps: its $0.</summary>
        public const string ProcessName = "sandbox-deadline";

        // $1 $2: the guard and the fallback loop, which it hands to the best shell of the image through the environment
        // of PID 1 alone (docker exec does not inherit it), so that ps shows one short line: <shell> -c eval "$G"
        // sandbox-deadline <seconds> <fraction>. The test of read -t is the shell's own: dash fails it with status 2.
        const string Launcher =
            "G=$1 L=$2; shift 2; export G\n" +
            "[ -x /bin/bash ] && exec /bin/bash -c 'eval \"$G\"' " + ProcessName + " \"$@\"\n" +
            "{ read -t 0 X </dev/null || [ $? = 1 ]; } 2>/dev/null && exec /bin/sh -c 'eval \"$G\"' " + ProcessName + " \"$@\"\n" +
            "command -v busybox >/dev/null && exec busybox sh -c 'eval \"$G\"' " + ProcessName + " \"$@\"\n" +
            "G=$L; exec /bin/sh -c 'eval \"$G\"' " + ProcessName + " \"$@\"";

        // $1 $2: the deadline as engine-clock epoch seconds and the fraction of that second ("0.250"); 0: none. Absolute,
        // because the engine may start the sandbox seconds after creating it under load, and the deadline counts from
        // creation. The deadline file, when present (whole epoch seconds, rounded up, and a newline, so that a file being
        // written is not taken; 0: none), wins; it keeps the format every version of the module reads, and it is read
        // right before the loop decides, so that an extended deadline is never cut.
        // Time is in hundredths: /proc/uptime (the host kernel's, never namespaced, not settable from inside; under gVisor
        // the sandbox's own kernel's, a monotonic clock too, but starting near 0 with the sandbox: "0.08" loses its
        // leading zeros, which shells read as octal; and gVisor can cut the read short when a signal comes, such as the
        // SIGCHLD of an orphan that code inside stopped or killed, so a reading counts only when it ends in two decimals)
        // plus an offset to the epoch
        // taken once at start from bash's $EPOCHREALTIME, else date +%s%N, else (busybox: whole seconds) from the turn
        // of date's second, polled for at most a second. Each estimate errs late, never early (the offset loses one more
        // hundredth, for the one that /proc/uptime cuts off). Far from the deadline the loop wakes once a second (so
        // that a deadline Set-Sandbox shortened is kept within a second, and zombies, which shells reap when read
        // returns, live at most that long); in the last second it sleeps the rest exactly.
        // It sleeps reading a new pseudo-terminal's master, whose slave stays locked: nothing can ever write to it (opening
        // /proc/1/fd/3 makes another one). Where there is none, it reads the container's stdin, kept open for that, to
        // which code inside can write: read -n 1 then only wakes the loop early.
        const string Guard =
            "F=" + FilePath + "\n" +
            "command exec 3<>/dev/ptmx || command exec 3<&0\n" +
            "c() { until read U X </proc/uptime && case $U in *.[0-9][0-9]) ;; *) false;; esac; do :; done; U=${U%.*}${U#*.}; U=${U#0}; U=${U#0}; }\n" +
            "if [ -n \"$EPOCHREALTIME\" ]; then E=${EPOCHREALTIME#*[.,]}; E=$((${EPOCHREALTIME%[.,]*}00 + 1${E%????} - 100)); c; O=$((E - U))\n" +
            "else\n" +
            "until E=$(date +%s%N); do read -r -n 1 -t 0.05 X <&3; done; c\n" +
            "case $E in\n" +
            "*[!0-9]*|\"\") E=${E%%[!0-9]*}; S=$U; while B=$(date +%s) && [ \"$B\" = \"$E\" ] && [ $((U - S)) -lt 110 ]; do read -r -n 1 -t 0.05 X <&3; c; done; c; O=$((${B:-$E}00 - U));;\n" +
            "*) O=$((${E%???????} - U));;\n" +
            "esac; fi; O=$((O - 1))\n" +
            "T=0; [ \"$1\" -gt 0 ] && { M=${2#0}; M=${M#.}000; M=${M%\"${M#???}\"}; T=$(($1 * 100 + (1$M - 1000 + 9) / 10)); }\n" +
            "while :; do\n" +
            "[ -r $F ] && read A <$F && [ \"$A\" -ge 0 ] && T=$((A * 100))\n" +
            "c; N=$((O + U)); W=1\n" +
            "if [ $T -gt 0 ]; then [ $N -ge $T ] && exit 0; [ $((T - N)) -lt 100 ] && W=0.$(((T - N) / 10))$(((T - N) % 10)); fi\n" +
            "read -r -n 1 -t $W X <&3\n" +
            "done";

        // The fallback for a shell without read -t, with the same arguments and file. It forks date and sleep once a
        // second, so code inside can stop it (kill -STOP -1 stops the sleep it waits for) or starve it (a held pids
        // limit); about_Sandbox says so. A second before the deadline it polls in tenths to catch the turn of the second,
        // then sleeps the fraction. An image whose sleep takes no fractions rounds the deadline up to the next second.
        const string ForkingLoop =
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

        /// <summary>PID 1's command before its arguments; the container's stdin should be open (and never attached).</summary>
        public static IList<string> Entrypoint => new List<string> { "/bin/sh", "-c", Launcher, ProcessName, Guard, ForkingLoop };

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

        /// <summary>What the deadline file holds: whole epoch seconds, rounded up so that PID 1 never acts early (0: none).</summary>
        public static string FileText(DateTime? deadlineUtc)
        {
            var wholeSeconds = deadlineUtc == null ? 0
                : ((deadlineUtc.Value.ToUniversalTime() - UnixTime.Epoch).Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;
            return wholeSeconds.ToString(CultureInfo.InvariantCulture) + "\n";
        }

        /// <summary>A one-file tar holding the deadline, for the engine's archive API.</summary>
        public static MemoryStream Archive(DateTime? deadlineUtc) => Archive(FileName, FileText(deadlineUtc));

        /// <summary>A one-file tar for the deadline folder.</summary>
        public static MemoryStream Archive(string name, string text) => Archive(new[] { (name, text) });

        /// <summary>A tar of files for the deadline folder, in the order given (the engine unpacks them in that order).</summary>
        public static MemoryStream Archive(IEnumerable<(string Name, string Text)> files)
        {
            var buffer = new MemoryStream();
            var tar = new Files.TarWriter(buffer);
            foreach (var (name, text) in files)
            {
                var content = Encoding.ASCII.GetBytes(text);
                using var data = new MemoryStream(content);
                tar.WriteFileAsync(name, 0x1A4, DateTime.UtcNow, data, content.Length, null, default).GetAwaiter().GetResult();
            }
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
