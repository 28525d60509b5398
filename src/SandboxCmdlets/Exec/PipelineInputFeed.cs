using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Sandbox.Exec
{
    /// <summary>
    /// The stdin of a command fed from the PowerShell pipeline while it runs: the pipeline thread adds bytes as objects
    /// arrive, the runner reads them. Bounded, so that a long input is never all held in memory: when it is full,
    /// <see cref="TryWrite"/> refuses and the writer waits until <c>spaceFreed</c> says the runner took some.
    /// </summary>
    public sealed class PipelineInputFeed : Stream
    {
        public const int DefaultCapacityBytes = 1 << 20;

        readonly object _gate = new object();
        readonly Queue<ArraySegment<byte>> _chunks = new Queue<ArraySegment<byte>>();
        readonly int _capacity;
        readonly Action _spaceFreed;
        long _buffered;
        int _headOffset;
        bool _completed;
        bool _abandoned;
        TaskCompletionSource<bool>? _waiting;

        /// <param name="spaceFreed">Called (on the reader's thread) each time the reader has taken bytes.</param>
        public PipelineInputFeed(Action spaceFreed, int capacityBytes = DefaultCapacityBytes)
        {
            _spaceFreed = spaceFreed;
            _capacity = Math.Max(1, capacityBytes);
        }

        /// <summary>
        /// Adds <paramref name="data"/>, or returns false when the feed is full (try again after space was freed). An empty feed
        /// takes any size. Once completed or abandoned, data is dropped (true): nobody reads it any more.
        /// </summary>
        public bool TryWrite(byte[] data)
        {
            TaskCompletionSource<bool>? wake;
            lock (_gate)
            {
                if (_completed || _abandoned || data.Length == 0) return true;
                if (_buffered > 0 && _buffered + data.Length > _capacity) return false;
                _chunks.Enqueue(new ArraySegment<byte>(data));
                _buffered += data.Length;
                wake = _waiting;
                _waiting = null;
            }
            wake?.TrySetResult(true);
            return true;
        }

        /// <summary>No more input: the reader gets the end of the stream once it has read what is buffered.</summary>
        public void Complete() => End(abandon: false);

        /// <summary>The command no longer reads: drops what is buffered and whatever comes later.</summary>
        public void Abandon() => End(abandon: true);

        void End(bool abandon)
        {
            TaskCompletionSource<bool>? wake;
            lock (_gate)
            {
                _completed = true;
                if (abandon) { _abandoned = true; _chunks.Clear(); _buffered = 0; _headOffset = 0; }
                wake = _waiting;
                _waiting = null;
            }
            wake?.TrySetResult(true);
        }

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            while (true)
            {
                Task wait;
                int taken = 0;
                lock (_gate)
                {
                    if (_chunks.Count > 0)
                    {
                        var chunk = _chunks.Peek();
                        taken = Math.Min(count, chunk.Count - _headOffset);
                        Buffer.BlockCopy(chunk.Array!, chunk.Offset + _headOffset, buffer, offset, taken);
                        _headOffset += taken;
                        if (_headOffset == chunk.Count) { _chunks.Dequeue(); _headOffset = 0; }
                        _buffered -= taken;
                        wait = Task.CompletedTask;
                    }
                    else if (_completed) return 0;
                    else
                    {
                        _waiting ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                        wait = _waiting.Task;
                    }
                }
                if (taken > 0 || count == 0)
                {
                    _spaceFreed();
                    return taken;
                }
                var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                using (cancellationToken.Register(() => cancelled.TrySetCanceled()))
                    await Task.WhenAny(wait, cancelled.Task).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
