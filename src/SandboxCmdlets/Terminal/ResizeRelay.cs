using System;
using System.Threading.Tasks;

namespace Sandbox.Terminal
{
    /// <summary>
    /// Passes window sizes on one at a time, in order, and drops the ones overtaken while a call runs: dragging a window edge
    /// raises many resizes, and only the last size matters.
    /// </summary>
    sealed class ResizeRelay
    {
        readonly Func<(int Columns, int Rows), Task> _send;
        readonly object _lock = new object();
        (int Columns, int Rows)? _pending;
        bool _draining;
        Task _running = Task.CompletedTask;

        public ResizeRelay(Func<(int Columns, int Rows), Task> send) => _send = send;

        public void Request((int Columns, int Rows) size)
        {
            lock (_lock)
            {
                _pending = size;
                if (_draining) return;
                _draining = true;
                _running = Task.Run(DrainAsync);
            }
        }

        async Task DrainAsync()
        {
            while (true)
            {
                (int Columns, int Rows) size;
                lock (_lock)
                {
                    if (_pending == null) { _draining = false; return; }
                    size = _pending.Value;
                    _pending = null;
                }
                await _send(size).ConfigureAwait(false);
            }
        }

        public Task IdleAsync() { lock (_lock) return _running; }
    }
}
