using System;
using System.Collections.Concurrent;
using System.IO;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Sandbox.Lifecycle;

namespace Sandbox.Endpoints
{
    /// <summary>A connected, version-negotiated client for one endpoint, shared by every cmdlet in the process.</summary>
    public sealed class DockerEngine : IDisposable
    {
        static readonly ConcurrentDictionary<string, Lazy<Task<DockerEngine>>> Cache = new ConcurrentDictionary<string, Lazy<Task<DockerEngine>>>();

        public DockerEndpoint Endpoint { get; }
        public DockerClient Client { get; }
        public Version? ApiVersion { get; }

        DockerEngine(DockerEndpoint endpoint, DockerClient client, Version? apiVersion)
        {
            Endpoint = endpoint; Client = client; ApiVersion = apiVersion;
        }

        public static Task<DockerEngine> ConnectAsync(DockerEndpoint endpoint, CancellationToken cancel)
        {
            var lazy = Cache.GetOrAdd(endpoint.CacheKey, _ => new Lazy<Task<DockerEngine>>(() => CreateAsync(endpoint)));
            var task = lazy.Value;
            if (task.IsFaulted || task.IsCanceled)
            {
                Cache.TryRemove(endpoint.CacheKey, out _);
                lazy = Cache.GetOrAdd(endpoint.CacheKey, _ => new Lazy<Task<DockerEngine>>(() => CreateAsync(endpoint)));
                task = lazy.Value;
            }
            return WithCancellation(task, cancel);
        }

        /// <summary>Every engine this process has talked to, for the cleanup engine's sweeps.</summary>
        public static DockerEngine[] Connected()
        {
            var list = new System.Collections.Generic.List<DockerEngine>();
            foreach (var lazy in Cache.Values)
                if (lazy.IsValueCreated && lazy.Value.Status == TaskStatus.RanToCompletion) list.Add(lazy.Value.Result);
            return list.ToArray();
        }

        /// <summary>Drops a broken connection so that the next call reconnects.</summary>
        public void Forget() => Cache.TryRemove(Endpoint.CacheKey, out _);

        public static void DisposeAll()
        {
            foreach (var engine in Connected()) engine.Dispose();
            Cache.Clear();
            Ssh.SshSession.DisposeAll();
        }

        static async Task<DockerEngine> CreateAsync(DockerEndpoint endpoint)
        {
            var version = endpoint.ApiVersion;
            var client = Build(endpoint, version);
            if (version == null)
            {
                // An unversioned client speaks the library's newest API, which older engines refuse: ask the engine.
                try
                {
                    var info = await client.System.GetVersionAsync().ConfigureAwait(false);
                    if (Version.TryParse(info.APIVersion, out var server) && server < LibraryApiVersion)
                    {
                        client.Dispose();
                        version = server;
                        client = Build(endpoint, version);
                    }
                }
                catch (DockerApiException e) when (TryReadMaxVersion(e.Message + " " + e.ResponseBody, out var max))
                {
                    client.Dispose();
                    version = max;
                    client = Build(endpoint, version);
                }
                catch (Exception e)
                {
                    client.Dispose();
                    throw Translate(e, endpoint);
                }
            }
            return new DockerEngine(endpoint, client, version);
        }

        static readonly Version LibraryApiVersion = new Version(1, 52);

        static bool TryReadMaxVersion(string message, out Version max)
        {
            var match = Regex.Match(message ?? "", @"[Mm]aximum supported API version is (\d+\.\d+)");
            max = match.Success ? Version.Parse(match.Groups[1].Value) : new Version();
            return match.Success;
        }

        static DockerClient Build(DockerEndpoint endpoint, Version? version)
        {
            var builder = new DockerClientBuilder().WithEndpoint(endpoint.Uri).WithTimeout(System.Threading.Timeout.InfiniteTimeSpan);
            if (version != null) builder = builder.WithApiVersion(version);
            if (endpoint.UsesTls) builder = builder.WithAuthProvider(TlsCredentials.Load(endpoint));
            if (endpoint.Kind == EndpointKind.Ssh)
                return builder.WithTransportOptions(Ssh.SshHandlerFactory.Instance, new Ssh.SshTransportOptions { Session = Ssh.SshSession.For(endpoint) }).Build();
#if NET
            if (endpoint.Kind == EndpointKind.Unix)
                return builder.WithTransportOptions(UnixHandlerFactory.Instance, new UnixHandlerFactory.Options { SocketPath = endpoint.Uri.LocalPath }).Build();
#endif
            return builder.Build();
        }

        /// <summary>Turns transport failures into DockerEndpointUnavailable with the address and what to check.</summary>
        public static Exception Translate(Exception e, DockerEndpoint endpoint)
        {
            if (e is SandboxException || e is OperationCanceledException) return e;
            for (var inner = e.InnerException; inner != null; inner = inner.InnerException)
                if (inner is SandboxException cause) return cause;
            if (e is AggregateException agg && agg.InnerExceptions.Count == 1) return Translate(agg.InnerException!, endpoint);
            for (var inner = (Exception?)e; inner != null; inner = inner.InnerException)
            {
                if (!(inner is System.Security.Authentication.AuthenticationException)) continue;
                var problem = TlsCredentials.LastProblem(endpoint);
                return new SandboxException("TlsHandshakeFailed", SandboxErrorKind.SecurityError,
                    problem != null
                        ? $"Refused the TLS connection to {endpoint.Host}: {problem}"
                        : $"The TLS handshake with {endpoint.Host} failed: the engine did not accept the client certificate in {endpoint.TlsCertPath} ({Innermost(e).Message}).",
                    endpoint.Host, "Check DOCKER_CERT_PATH: ca.pem must be the CA that signed the engine's certificate, cert.pem/key.pem a client certificate the engine trusts.", e);
            }
            if (e is HttpRequestException || e is SocketException || e is IOException || e is TimeoutException ||
                e.InnerException is SocketException || e.InnerException is IOException)
            {
                return new SandboxException("DockerEndpointUnavailable", SandboxErrorKind.ConnectionError,
                    $"Cannot reach the Docker engine at {endpoint.Host} (from {endpoint.Source}): {UnreachableReason(e, endpoint)}",
                    endpoint.Host, "Start the engine (dockerd) or choose another one with -DockerHost or DOCKER_HOST.", e);
            }
            return e;
        }

        // A unix socket that does not exist fails with EADDRNOTAVAIL ("Cannot assign requested address") on Linux,
        // which sends a newcomer looking at network settings; say what is really missing.
        static string UnreachableReason(Exception e, DockerEndpoint endpoint)
        {
            if (endpoint.Kind == EndpointKind.Unix && !File.Exists(endpoint.Uri.LocalPath))
                return $"there is no socket at {endpoint.Uri.LocalPath} (no engine runs there)";
            return Innermost(e).Message;
        }

        static Exception Innermost(Exception e)
        {
            while (e.InnerException != null) e = e.InnerException;
            return e;
        }

        static async Task<T> WithCancellation<T>(Task<T> task, CancellationToken cancel)
        {
            if (!cancel.CanBeCanceled || task.IsCompleted) return await task.ConfigureAwait(false);
            var cancelled = new TaskCompletionSource<bool>();
            using (cancel.Register(() => cancelled.TrySetResult(true)))
            {
                if (await Task.WhenAny(task, cancelled.Task).ConfigureAwait(false) != task)
                    throw new OperationCanceledException(cancel);
            }
            return await task.ConfigureAwait(false);
        }

        public void Dispose() => Client.Dispose();
    }
}
