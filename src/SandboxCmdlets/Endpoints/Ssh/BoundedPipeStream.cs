using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Sandbox.Endpoints.Ssh
{
    /// <summary>
    /// What an SSH channel received and nobody has read yet, with a ceiling: a write that would go past it waits until the
    /// reader takes some. The channel's data arrives on its connection's receive thread, so a slow reader holds that
    /// thread, the connection stops reading its socket, and TCP pushes back all the way to the engine: memory stays
    /// bounded instead of growing with the backlog. Disposing it (the writer's side: the channel closed) ends the data;
    /// the reader gets the rest, then the end.
    /// </summary>
    sealed class BoundedPipeStream : Stream
    {
        readonly int _capacity;
        readonly object _gate = new object();
        readonly Queue<ArraySegment<byte>> _chunks = new Queue<ArraySegment<byte>>();
        int _buffered;
        /// <summary>How much of the first chunk was read already.</summary>
        int _headOffset;
        bool _completed;
        bool _readerGone;
        TaskCompletionSource<bool> _written = NewSignal();

        public BoundedPipeStream(int capacity) => _capacity = capacity;

        static TaskCompletionSource<bool> NewSignal() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>Waits while the ceiling is reached; data written after the reader left is dropped, as nobody will read it.</summary>
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (count == 0) return;
            var copy = new byte[count];
            Buffer.BlockCopy(buffer, offset, copy, 0, count);
            TaskCompletionSource<bool> signal;
            lock (_gate)
            {
                // A single chunk larger than the ceiling goes in once the pipe is empty, so that nothing waits forever.
                while (!_completed && !_readerGone && _buffered > 0 && _buffered + count > _capacity) Monitor.Wait(_gate);
                if (_completed || _readerGone) return;
                _chunks.Enqueue(new ArraySegment<byte>(copy));
                _buffered += count;
                signal = _written;
                _written = NewSignal();
            }
            signal.TrySetResult(true);
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            while (true)
            {
                Task wait;
                lock (_gate)
                {
                    if (_buffered > 0)
                    {
                        var read = 0;
                        while (read < count && _chunks.Count > 0)
                        {
                            var head = _chunks.Peek();
                            var take = Math.Min(count - read, head.Count - _headOffset);
                            Buffer.BlockCopy(head.Array!, head.Offset + _headOffset, buffer, offset + read, take);
                            read += take;
                            _headOffset += take;
                            if (_headOffset == head.Count) { _chunks.Dequeue(); _headOffset = 0; }
                        }
                        _buffered -= read;
                        Monitor.PulseAll(_gate);
                        return read;
                    }
                    if (_completed || count == 0) return 0;
                    wait = _written.Task;
                }
                if (cancellationToken.CanBeCanceled)
                {
                    var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                    using (cancellationToken.Register(() => cancelled.TrySetResult(true)))
                        await Task.WhenAny(wait, cancelled.Task).ConfigureAwait(false);
                    cancellationToken.ThrowIfCancellationRequested();
                }
                else await wait.ConfigureAwait(false);
            }
        }

        /// <summary>The reader will read no more: a writer that waits for room goes on, and drops what it has.</summary>
        public void ReaderGone()
        {
            lock (_gate)
            {
                _readerGone = true;
                _chunks.Clear();
                _buffered = 0;
                _headOffset = 0;
                Monitor.PulseAll(_gate);
            }
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            TaskCompletionSource<bool> signal;
            lock (_gate)
            {
                _completed = true;
                Monitor.PulseAll(_gate);
                signal = _written;
            }
            signal.TrySetResult(true);
            base.Dispose(disposing);
        }
    }
}
