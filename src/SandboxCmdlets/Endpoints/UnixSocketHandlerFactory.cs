#if NET
using System;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading.Tasks;
using Docker.DotNet.Handler.Abstractions;
using Microsoft.Extensions.Logging;

namespace Sandbox.Endpoints
{
    public sealed class UnixSocketTransportOptions
    {
        public string SocketPath { get; set; } = "";
    }

    /// <summary>
    /// The engine's unix socket through a pooled SocketsHttpHandler. Docker.DotNet's own unix transport sends
    /// 'Connection: close' and dials the socket for every request; kept-alive connections save that on each call
    /// (an exec is three or four requests).
    /// </summary>
    public sealed class UnixSocketHandlerFactory : IDockerHandlerFactory<UnixSocketTransportOptions>, IStreamHijacker
    {
        public static UnixSocketHandlerFactory Instance { get; } = new UnixSocketHandlerFactory();

        static readonly Uri EffectiveEndpoint = new Uri("http://docker.sock");

        public ResolvedTransport CreateHandler(ResolvedClientOptions clientOptions, ILogger logger) =>
            throw new InvalidOperationException("The unix socket transport needs UnixSocketTransportOptions with a socket path.");

        public ResolvedTransport CreateHandler(UnixSocketTransportOptions transportOptions, ResolvedClientOptions clientOptions, ILogger logger)
        {
            var path = transportOptions.SocketPath;
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancel) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancel).ConfigureAwait(false);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                UseProxy = false,
                AllowAutoRedirect = false,
            };
            return new ResolvedTransport(handler, EffectiveEndpoint);
        }

        public async Task<WriteClosableStream> HijackStreamAsync(HttpContent content) =>
            new UpgradedStream(await content.ReadAsStreamAsync().ConfigureAwait(false));
    }
}
#endif
