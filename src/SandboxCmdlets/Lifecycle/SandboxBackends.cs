using System.Threading;
using System.Threading.Tasks;
using Sandbox.Cluster;
using Sandbox.Endpoints;

namespace Sandbox.Lifecycle
{
    /// <summary>The backend behind an endpoint (one engine, or a swarm when the endpoint names a cluster) or behind a sandbox.</summary>
    public static class SandboxBackends
    {
        public static async Task<ISandboxBackend> ConnectAsync(DockerEndpoint endpoint, CancellationToken cancel) =>
            endpoint.IsCluster
                ? await SwarmBackend.ConnectAsync(endpoint, cancel).ConfigureAwait(false)
                : (ISandboxBackend)await SandboxManager.ConnectAsync(endpoint, cancel).ConfigureAwait(false);

        /// <summary>Where the sandbox lives: its cluster, else its engine (else <paramref name="fallback"/>, the endpoint it was found through).</summary>
        public static Task<ISandboxBackend> ForAsync(Sandbox sandbox, DockerEndpoint fallback, CancellationToken cancel) =>
            ConnectAsync(sandbox.ClusterEndpoint ?? sandbox.Endpoint ?? fallback, cancel);
    }
}
