#if NET
using System;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet.Handler.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Client;

namespace Sandbox.Endpoints
{
    /// <summary>
    /// The local engine's socket with keep-alive. The library's own unix handler opens a new socket for every request (a
    /// create, a start and an inspect: three connections, each a new goroutine and HTTP state in dockerd); a pooled SocketsHttpHandler
    /// (.NET 8) reuses them, and only an exec's attach, which upgrades its connection, gets a socket of its own.
    /// </summary>
    public sealed class UnixHandlerFactory : IDockerHandlerFactory<UnixHandlerFactory.Options>, IStreamHijacker
    {
        public static UnixHandlerFactory Instance { get; } = new UnixHandlerFactory();

        public sealed class Options
        {
            public string SocketPath { get; set; } = "";
        }

        static readonly Uri EffectiveEndpoint = new Uri("http://docker.sock");

        public ResolvedTransport CreateHandler(ResolvedClientOptions clientOptions, ILogger logger) =>
            CreateHandler(new Options { SocketPath = clientOptions.Endpoint.LocalPath }, clientOptions, logger);

        public ResolvedTransport CreateHandler(Options transportOptions, ResolvedClientOptions clientOptions, ILogger logger)
        {
            var path = transportOptions.SocketPath;
            var hijackable = new ManagedHandler(new ManagedHandler.SocketOpener((_, _, cancel) => ConnectAsync(path, cancel)), logger) { UseProxy = false };
            var pooled = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancel) => new NetworkStream(await ConnectAsync(path, cancel).ConfigureAwait(false), ownsSocket: true),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                UseProxy = false,
                AllowAutoRedirect = false,
                UseCookies = false,
            };
            return new ResolvedTransport(new UpgradeRouter(pooled, hijackable), EffectiveEndpoint);
        }

        static async Task<Socket> ConnectAsync(string path, CancellationToken cancel)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancel).ConfigureAwait(false);
                return socket;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        public Task<WriteClosableStream> HijackStreamAsync(HttpContent content)
        {
            if (content is HttpConnectionResponseContent hijackable) return Task.FromResult(hijackable.HijackStream());
            throw new NotSupportedException("Only an upgraded exec attach can be turned into a raw stream.");
        }
    }
}
#endif
