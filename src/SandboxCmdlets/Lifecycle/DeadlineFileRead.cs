using System;

namespace Sandbox.Lifecycle
{
    public enum DeadlineFileState
    {
        /// <summary>No deadline file: the deadline was never moved, the labels hold it.</summary>
        Absent,
        /// <summary>The file holds the deadline PID 1 watches (null: none).</summary>
        Present,
        /// <summary>The engine did not answer: the deadline is unknown, and the sandbox must be treated as not expired.</summary>
        Unreadable,
    }

    /// <summary>What reading a sandbox's deadline file found.</summary>
    public readonly struct DeadlineFileRead
    {
        public DeadlineFileState State { get; }
        public DateTime? DeadlineUtc { get; }
        public string? Error { get; }

        DeadlineFileRead(DeadlineFileState state, DateTime? deadlineUtc, string? error)
        {
            State = state; DeadlineUtc = deadlineUtc; Error = error;
        }

        public static DeadlineFileRead Absent => new DeadlineFileRead(DeadlineFileState.Absent, null, null);
        public static DeadlineFileRead Present(DateTime? deadlineUtc) => new DeadlineFileRead(DeadlineFileState.Present, deadlineUtc, null);
        public static DeadlineFileRead Unreadable(string error) => new DeadlineFileRead(DeadlineFileState.Unreadable, null, error);
    }
}
