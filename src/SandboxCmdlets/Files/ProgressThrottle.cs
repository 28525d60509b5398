using System;

namespace Sandbox.Files
{
    /// <summary>
    /// Reports progress at most ten times a second: a report per buffer became a
    /// WriteProgress per 80 KiB on the pipeline thread, which cost a 100 MiB copy about as much as moving the bytes.
    /// </summary>
    sealed class ProgressThrottle
    {
        static readonly long Interval = System.Diagnostics.Stopwatch.Frequency / 10;
        readonly IProgress<TransferProgress>? _progress;
        readonly TransferProgress _state;
        long _last;
        bool _unreported;

        public ProgressThrottle(IProgress<TransferProgress>? progress, TransferProgress state) { _progress = progress; _state = state; }

        public void Changed()
        {
            if (_progress == null) return;
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (now - _last < Interval)
            {
                _unreported = true;
                return;
            }
            _last = now;
            _unreported = false;
            _progress.Report(_state);
        }

        /// <summary>
        /// Reports the last change the throttle held back, so that every copy ends on a record of all its bytes,
        /// however fast it went.
        /// </summary>
        public void Finished()
        {
            if (_progress == null || !_unreported) return;
            _unreported = false;
            _progress.Report(_state);
        }
    }
}
