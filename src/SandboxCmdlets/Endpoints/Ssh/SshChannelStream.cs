using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Renci.SshNet;

namespace Sandbox.Endpoints.Ssh
{
    /// <summary>
    /// An SSH exec channel as a duplex stream. Disposing closes the channel without sending EOF first: an EOF makes
    /// dial-stdio half-close the engine connection while the HTTP layer may still be reading a pooled connection.
    /// </summary>
    sealed class SshChannelStream : Stream
    {
        readonly SshCommand _command;
        readonly Stream _input;
        readonly Stream _output;
        int _disposed;

        public SshChannelStream(SshCommand command)
        {
            _command = command;
            _input = command.CreateInputStream();
            _output = command.OutputStream;
        }

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _output.Read(buffer, offset, count);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _output.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count)
        {
            _input.Write(buffer, offset, count);
            _input.Flush();
        }

        public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            await _input.WriteAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            await _input.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        public override void Flush() => _input.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => _input.FlushAsync(cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                try { _command.Dispose(); } catch (Exception) { /* the connection is already gone */ }
            }
            base.Dispose(disposing);
        }
    }
}
