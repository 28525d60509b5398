using System;
using System.Net.Http;
using System.Threading.Tasks;
using Docker.DotNet.Handler.Abstractions;
using Microsoft.Extensions.Logging;

namespace Sandbox.Endpoints.Ssh
{

    /// <summary>
    /// Plugs SSH into Docker.DotNet. On .NET 8 a pooled SocketsHttpHandler opens each connection as a dial-stdio channel,
    /// so warm calls reuse open channels; on .NET Standard 2.0 each request gets its own channel.
    /// </summary>
    public sealed class SshHandlerFactory : IDockerHandlerFactory<SshTransportOptions>, IStreamHijacker
    {
        public static SshHandlerFactory Instance { get; } = new SshHandlerFactory();

        static readonly Uri EffectiveEndpoint = new Uri("http://docker.ssh");

        public ResolvedTransport CreateHandler(ResolvedClientOptions clientOptions, ILogger logger) =>
            throw new InvalidOperationException("The ssh transport needs SshTransportOptions with a session.");

        public ResolvedTransport CreateHandler(SshTransportOptions transportOptions, ResolvedClientOptions clientOptions, ILogger logger)
        {
            var session = transportOptions.Session;
#if NET
            var pooled = new SocketsHttpHandler
            {
                ConnectCallback = (_, cancel) => new ValueTask<System.IO.Stream>(Task.Run(() => session.OpenEngineStream(), cancel)),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                MaxConnectionsPerServer = 16,
                UseProxy = false,
                AllowAutoRedirect = false,
            };
            var hijackable = new Microsoft.Net.Http.Client.ManagedHandler((_, _, cancel) => Task.Run(() => session.OpenEngineStream(), cancel), logger) { UseProxy = false };
            return new ResolvedTransport(new UpgradeRouter(pooled, hijackable), EffectiveEndpoint);
#else
            var handler = new Microsoft.Net.Http.Client.ManagedHandler((_, _, cancel) => Task.Run(() => session.OpenEngineStream(), cancel), logger) { UseProxy = false };
            return new ResolvedTransport(handler, EffectiveEndpoint);
#endif
        }

        public async Task<WriteClosableStream> HijackStreamAsync(HttpContent content)
        {
            if (content is Microsoft.Net.Http.Client.HttpConnectionResponseContent hijackable) return hijackable.HijackStream();
#if NET
            var stream = await content.ReadAsStreamAsync().ConfigureAwait(false);
            return new HijackedStream(stream);
#else
            await Task.Yield();
            throw new NotSupportedException("This response cannot be turned into a raw stream.");
#endif
        }

        sealed class HijackedStream : WriteClosableStream
        {
            readonly System.IO.Stream _inner;
            public HijackedStream(System.IO.Stream inner) => _inner = inner;
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
}
