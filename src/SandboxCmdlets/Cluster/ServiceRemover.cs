using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Cluster
{
    /// <summary>
    /// How a cluster sandbox is removed, in the steps of <see cref="SandboxRemover"/>: this process lets go of it, the
    /// manager removes its service (so that the swarm never starts it again), then the node's engine removes the task's
    /// container and deadline volume as it would any sandbox's. A lost sandbox's node is down: its container goes when the
    /// node returns and its agent learns that the task is gone.
    /// </summary>
    sealed class ServiceRemover
    {
        readonly SwarmBackend _cluster;

        public ServiceRemover(SwarmBackend cluster) => _cluster = cluster;

        public async Task<bool> RemoveAsync(Sandbox sandbox, CancellationToken cancel)
        {
            SandboxRemover.BeforeRemoval(sandbox.Id);
            bool removed;
            try
            {
                await _cluster.Manager.Client.Swarm.RemoveServiceAsync(sandbox.ServiceId ?? sandbox.Name, cancel).ConfigureAwait(false);
                removed = true;
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { removed = false; }
            catch (DockerApiException e)
            {
                throw new SandboxException("SandboxRemoveFailed", SandboxErrorKind.InvalidOperation,
                    $"The cluster did not remove sandbox '{sandbox.Name}': {EngineErrors.Message(e)}", sandbox.Name, null, e);
            }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, _cluster.Endpoint); }

            if (sandbox.Endpoint != null && sandbox.EngineState != "lost" && sandbox.Id != sandbox.ServiceId)
                await RemoveFromNodeAsync(sandbox, sandbox.Endpoint).ConfigureAwait(false);
            SandboxRemover.AfterRemoval(sandbox.Id);
            return removed;
        }

        /// <summary>
        /// Removed means gone: the node's engine removes the container at once (the swarm's agent would first wait out the stop
        /// grace), and its deadline volume, in the single-engine way.
        /// </summary>
        static async Task RemoveFromNodeAsync(Sandbox sandbox, DockerEndpoint node)
        {
            try
            {
                var manager = await SandboxManager.ConnectAsync(node, CancellationToken.None).ConfigureAwait(false);
                sandbox.Labels.TryGetValue(SandboxLabels.DeadlineVolume, out var volume);
                await manager.Remover.RemoveAsync(sandbox.Id, volume, CancellationToken.None, sandbox).ConfigureAwait(false);
            }
            catch (Exception) { /* the node is unreachable now: the service is gone, so its agent removes the container when it can, and the node's next prune the volume */ }
        }
    }
}
