using System;
using System.Globalization;

namespace Sandbox.Lifecycle
{
    /// <summary>
    /// What a suspended sandbox's deadline volume records beside the deadline file, so that any process sees the same: when
    /// it was suspended, how much of its deadline was left then (frozen), and whether its clock runs on (-KeepDeadline).
    /// The deadline file meanwhile holds when a still-suspended sandbox is removed (its -MaxSuspend, or its own deadline
    /// with -KeepDeadline, whichever comes first). One line: "suspended &lt;epoch ms&gt; &lt;remaining ms, -1: no deadline&gt; &lt;keep 0|1&gt;".
    /// </summary>
    public readonly struct SuspendRecord
    {
        public const string FileName = "suspend";
        const string Tag = "suspended";

        public DateTime SuspendedAtUtc { get; }
        /// <summary>The deadline's remaining time when suspended; null when the sandbox had no deadline.</summary>
        public TimeSpan? Remaining { get; }
        /// <summary>-KeepDeadline: the deadline clock ran on while suspended.</summary>
        public bool KeepDeadline { get; }

        public SuspendRecord(DateTime suspendedAtUtc, TimeSpan? remaining, bool keepDeadline)
        {
            SuspendedAtUtc = suspendedAtUtc;
            Remaining = remaining is TimeSpan r && r < TimeSpan.Zero ? TimeSpan.Zero : remaining;
            KeepDeadline = keepDeadline;
        }

        /// <summary>Suspending at <paramref name="nowUtc"/> a sandbox whose deadline is <paramref name="deadlineUtc"/> (null: none).</summary>
        public static SuspendRecord At(DateTime nowUtc, DateTime? deadlineUtc, bool keepDeadline) =>
            new SuspendRecord(nowUtc, deadlineUtc is DateTime d ? d - nowUtc : (TimeSpan?)null, keepDeadline);

        /// <summary>The deadline the sandbox had when suspended (null: none).</summary>
        public DateTime? OriginalDeadline => Remaining is TimeSpan r ? SuspendedAtUtc + r : (DateTime?)null;

        /// <summary>
        /// When a sandbox still suspended is removed: after <paramref name="maxSuspend"/>; with -KeepDeadline its own deadline
        /// if that comes first.
        /// </summary>
        public DateTime RemovalDeadline(TimeSpan maxSuspend)
        {
            var limit = SuspendedAtUtc + maxSuspend;
            return KeepDeadline && OriginalDeadline is DateTime d && d < limit ? d : limit;
        }

        /// <summary>
        /// The deadline after resuming at <paramref name="nowUtc"/>: the frozen remaining time from now, or the original
        /// deadline with -KeepDeadline (null: none).
        /// </summary>
        public DateTime? ResumedDeadline(DateTime nowUtc) =>
            KeepDeadline ? OriginalDeadline : Remaining is TimeSpan r ? nowUtc + r : (DateTime?)null;

        /// <summary>
        /// For a resume no earlier than <paramref name="earliestThawUtc"/>: the deadline for the file (whole seconds on the
        /// engine's clock, rounded up) and the moment to thaw (our clock) that leaves exactly the frozen remaining time.
        /// </summary>
        public (DateTime EngineDeadline, DateTime ThawAtUtc) ThawOnTheSecond(DateTime earliestThawUtc, TimeSpan engineClockOffset)
        {
            var exact = earliestThawUtc + (Remaining ?? TimeSpan.Zero) + engineClockOffset;
            var engineDeadline = new DateTime((exact.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, DateTimeKind.Utc);
            return (engineDeadline, engineDeadline - engineClockOffset - (Remaining ?? TimeSpan.Zero));
        }

        public string ToFileText() => string.Join(" ", Tag,
            ((long)(SuspendedAtUtc.ToUniversalTime() - UnixTime.Epoch).TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            (Remaining is TimeSpan r ? (long)Math.Ceiling(r.TotalMilliseconds) : -1).ToString(CultureInfo.InvariantCulture),
            KeepDeadline ? "1" : "0") + "\n";

        /// <summary>False for anything else, including the "resumed" line a resume leaves.</summary>
        public static bool TryParse(string text, out SuspendRecord record)
        {
            record = default;
            var parts = text.Trim().Split(' ');
            if (parts.Length != 4 || parts[0] != Tag) return false;
            if (!long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var at) || at <= 0) return false;
            if (!long.TryParse(parts[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var remaining) || remaining < -1) return false;
            if (parts[3] != "0" && parts[3] != "1") return false;
            record = new SuspendRecord(UnixTime.Epoch.AddMilliseconds(at), remaining < 0 ? (TimeSpan?)null : TimeSpan.FromMilliseconds(remaining), parts[3] == "1");
            return true;
        }

        /// <summary>What a resume leaves in the file: no suspension.</summary>
        public const string ResumedText = "resumed\n";
    }
}
