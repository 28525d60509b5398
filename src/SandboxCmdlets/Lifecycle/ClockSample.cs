using System;

namespace Sandbox.Lifecycle
{
    /// <summary>One reading of a remote engine's clock: when we asked, when the answer came, and what the engine said.</summary>
    internal readonly struct ClockSample
    {
        public ClockSample(DateTime sent, DateTime received, DateTime engine)
        {
            Sent = sent; Received = received; Engine = engine;
        }

        public DateTime Sent { get; }
        public DateTime Received { get; }
        public DateTime Engine { get; }
        public TimeSpan RoundTrip => Received - Sent;
    }
}
