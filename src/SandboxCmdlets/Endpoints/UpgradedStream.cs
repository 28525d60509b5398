#if NET
using System;
using System.Threading.Tasks;
using Docker.DotNet.Handler.Abstractions;

namespace Sandbox.Endpoints
{
    /// <summary>
    /// The connection SocketsHttpHandler hands over after '101 UPGRADED' (exec and attach), as the stream Docker.DotNet
    /// reads and writes. It cannot half-close: the module never sends stdin, so nothing needs to.
    /// </summary>
    sealed class UpgradedStream : WriteClosableStream
    {
        readonly System.IO.Stream _inner;
        public UpgradedStream(System.IO.Stream inner) => _inner = inner;
        public override bool CanCloseWrite => false;
        public override void CloseWrite() => throw new NotSupportedException();
        public override bool CanRead => _inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => _inner.CanWrite;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => _inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, System.Threading.CancellationToken cancellationToken) => _inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override long Seek(long offset, System.IO.SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
        public override Task WriteAsync(byte[] buffer, int offset, int count, System.Threading.CancellationToken cancellationToken) => _inner.WriteAsync(buffer, offset, count, cancellationToken);
        protected override void Dispose(bool disposing) { if (disposing) _inner.Dispose(); base.Dispose(disposing); }
    }
}
#endif
