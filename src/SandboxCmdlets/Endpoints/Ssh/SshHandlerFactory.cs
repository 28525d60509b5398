using System;
using System.Net.Http;
using System.Threading.Tasks;
using Docker.DotNet.Handler.Abstractions;
using Microsoft.Extensions.Logging;

namespace Sandbox.Endpoints.Ssh
{
    public sealed class SshTransportOptions
    {
        public SshSession Session { get; set; } = null!;
    }

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
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = (_, cancel) => new ValueTask<System.IO.Stream>(Task.Run(() => session.OpenEngineStream(), cancel)),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                MaxConnectionsPerServer = 16,
                UseProxy = false,
                AllowAutoRedirect = false,
            };
            return new ResolvedTransport(handler, EffectiveEndpoint);
#else
            var handler = new Microsoft.Net.Http.Client.ManagedHandler((_, _, cancel) => Task.Run(() => session.OpenEngineStream(), cancel), logger) { UseProxy = false };
            return new ResolvedTransport(handler, EffectiveEndpoint);
#endif
        }

        public async Task<WriteClosableStream> HijackStreamAsync(HttpContent content)
        {
#if NET
            var stream = await content.ReadAsStreamAsync().ConfigureAwait(false);
            return new UpgradedStream(stream);
#else
            if (content is Microsoft.Net.Http.Client.HttpConnectionResponseContent hijackable) return hijackable.HijackStream();
            await Task.Yield();
            throw new NotSupportedException("This response cannot be turned into a raw stream.");
#endif
        }
    }
}
