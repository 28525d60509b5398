namespace Sandbox.Lifecycle
{
    /// <summary>Something the cleanup engine could not do, for the user to hear about (a warning and an engine event).</summary>
    public sealed class CleanupProblem
    {
        public const string RemovalFailing = "RemovalFailing";
        public const string DeadlineUnreadable = "DeadlineUnreadable";

        public CleanupProblem(string kind, Sandbox sandbox, string message)
        {
            Kind = kind; Sandbox = sandbox; Message = message;
        }

        /// <summary><see cref="RemovalFailing"/> or <see cref="DeadlineUnreadable"/>.</summary>
        public string Kind { get; }
        public Sandbox Sandbox { get; }
        public string Message { get; }

        public override string ToString() => Message;
    }
}
