using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Renci.SshNet;

namespace Sandbox.Endpoints.Ssh
{
    /// <summary>
    /// An SSH exec channel, on an SSH connection of its own, as a duplex stream. Disposing closes the channel without
    /// sending EOF first: an EOF makes dial-stdio half-close the engine connection while the HTTP layer may still be
    /// reading a pooled connection. Only <see cref="CloseWrite"/> sends it: the end of an exec's stdin on a hijacked connection.
    /// </summary>
    sealed class SshChannelStream : Docker.DotNet.Handler.Abstractions.WriteClosableStream
    {
        readonly SshClient _client;
        readonly SshCommand _command;
        readonly Stream _input;
        readonly Stream _output;
        int _disposed;

        /// <param name="client">The channel's own connection, closed with it.</param>
        public SshChannelStream(SshClient client, SshCommand command)
        {
            _client = client;
            _command = command;
            _input = command.CreateInputStream();
            _output = command.OutputStream;
        }

        public bool IsOpen => _disposed == 0 && _client.IsConnected;

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

        public override bool CanCloseWrite => true;

        /// <summary>Sends EOF on the channel; dial-stdio then half-closes its engine connection, which ends the exec's stdin.</summary>
        public override void CloseWrite()
        {
            _input.Flush();
            _input.Dispose();
        }

        public override void Flush() => _input.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => _input.FlushAsync(cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                (_output as BoundedPipeStream)?.ReaderGone();
                try { _command.Dispose(); } catch (Exception) { /* the connection is already gone */ }
                try { _client.Dispose(); } catch (Exception) { /* the connection is already gone */ }
            }
            base.Dispose(disposing);
        }
    }
}
