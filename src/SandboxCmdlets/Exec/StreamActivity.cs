using System;
using System.Diagnostics;

namespace Sandbox.Exec
{
    /// <summary>
    /// Where the pump of an exec's output spends its time: waiting for the engine, or handing lines to a consumer that may
    /// lag (the pipeline blocks it when its queue is full). Only the engine's silence counts as quiet, so that a slow
    /// consumer is never taken for an output that has ended.
    /// </summary>
    sealed class StreamActivity
    {
        readonly object _gate = new object();
        readonly Func<long> _clock;
        bool _waiting = true;
        long _waitingSince;
        long _handingOverSince;
        long _handingOverTicks;

        /// <param name="clock">Stopwatch timestamps; the default is <see cref="Stopwatch.GetTimestamp"/>.</param>
        public StreamActivity(Func<long>? clock = null)
        {
            _clock = clock ?? Stopwatch.GetTimestamp;
            _waitingSince = _clock();
        }

        public long Now => _clock();

        public void WaitingForEngine()
        {
            lock (_gate)
            {
                if (_waiting) return;
                var now = _clock();
                _handingOverTicks += now - _handingOverSince;
                _waiting = true;
                _waitingSince = now;
            }
        }

        public void HandingOver()
        {
            lock (_gate)
            {
                if (!_waiting) return;
                _waiting = false;
                _handingOverSince = _clock();
            }
        }

        /// <summary>How long the engine has sent nothing while the pump waited for it, counted from no earlier than <paramref name="since"/>.</summary>
        public TimeSpan QuietSince(long since)
        {
            lock (_gate)
            {
                if (!_waiting) return TimeSpan.Zero;
                return Elapsed(Math.Max(_waitingSince, since), _clock());
            }
        }

        /// <summary>The time since <paramref name="since"/> that the pump did not spend handing over, given what it had spent by then.</summary>
        public TimeSpan StreamTimeSince(long since, long handingOverTicksThen)
        {
            lock (_gate)
            {
                var now = _clock();
                var handingOver = HandingOverTicksAt(now) - handingOverTicksThen;
                return Elapsed(since + handingOver, now);
            }
        }

        public long HandingOverTicks()
        {
            lock (_gate) return HandingOverTicksAt(_clock());
        }

        long HandingOverTicksAt(long now) => _handingOverTicks + (_waiting ? 0 : now - _handingOverSince);

        static TimeSpan Elapsed(long from, long to) => TimeSpan.FromSeconds(Math.Max(0, to - from) / (double)Stopwatch.Frequency);
    }
}
