using System;
using System.Diagnostics;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Cluster
{
    /// <summary>
    /// How a cluster sandbox is removed, in the steps of <see cref="SandboxRemover"/>: this process lets go of it, the
    /// manager removes its service, the node's engine removes the task's container (as the node would, seconds later), and
    /// once the container is gone the node's engine removes its deadline volume. A lost sandbox's node is down: its container goes when the node
    /// returns and learns that the task is gone.
    /// </summary>
    sealed class ServiceRemover
    {
        /// <summary>The node stops the task within its stop grace (a second); more only on a busy node.</summary>
        static readonly TimeSpan ContainerGoneWait = TimeSpan.FromSeconds(15);

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

        /// <summary>Removed means gone: waits for the node to remove the container, then removes the deadline volume.</summary>
        static async Task RemoveFromNodeAsync(Sandbox sandbox, DockerEndpoint node)
        {
            try
            {
                var manager = await SandboxManager.ConnectAsync(node, CancellationToken.None).ConfigureAwait(false);
                // The node would stop the task itself, but only once the manager's word reaches it (about a second here)
                // and after the stop grace (another second, since PID 1 ignores SIGTERM): removing the container through
                // the node's engine ends it at once. Whatever this misses (a conflict with the node's own removal), the wait
                // below covers.
                try { await manager.Engine.Client.Containers.RemoveContainerAsync(sandbox.Id, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, CancellationToken.None).ConfigureAwait(false); }
                catch (DockerApiException) { }
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < ContainerGoneWait)
                {
                    try { await manager.Engine.Client.Containers.InspectContainerAsync(sandbox.Id, CancellationToken.None).ConfigureAwait(false); }
                    catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { break; }
                    await Task.Delay(50).ConfigureAwait(false);
                }
                if (sandbox.Labels.TryGetValue(SandboxLabels.DeadlineVolume, out var volume))
                    await manager.Remover.RemoveVolumeAsync(volume).ConfigureAwait(false);
            }
            catch (Exception) { /* the node is unreachable now: the service is gone, and the node's next prune takes the volume */ }
        }
    }
}
