using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Endpoints;
using Sandbox.Files;

namespace Sandbox.Lifecycle
{
    /// <summary>
    /// Where sandboxes live: one engine (<see cref="SandboxManager"/>) or a swarm (<see cref="Cluster.SwarmBackend"/>). Cmdlets,
    /// pools and the cleanup engine talk to this and never ask which one it is. A sandbox's processes always run on one
    /// engine, its <see cref="Sandbox.Endpoint"/>: exec, copies, sessions and ports go there, through the single-engine code.
    /// </summary>
    public interface ISandboxBackend
    {
        /// <summary>The engine (or the swarm manager) this backend was reached through.</summary>
        DockerEndpoint Endpoint { get; }

        Task<Sandbox> CreateAsync(SandboxSpec spec, IProgress<PullProgress>? pullProgress, IProgress<TransferProgress>? copyProgress, CancellationToken cancel);

        /// <summary>This module's sandboxes, oldest first; only those of <paramref name="projectId"/> when given.</summary>
        Task<IReadOnlyList<Sandbox>> ListAsync(CancellationToken cancel, string? projectId = null);

        /// <summary>
        /// Sandboxes that should go: deadline known to have passed, or (on a swarm) ended or lost with their node; and those
        /// whose deadline could not be read, which are never removed for their deadline.
        /// </summary>
        Task<(Sandbox[] Expired, Sandbox[] Unknown)> ListExpiredAsync(CancellationToken cancel);

        /// <summary>One of this module's sandboxes by full id, id prefix or name; null when none.</summary>
        Task<Sandbox?> FindAsync(string idOrName, CancellationToken cancel);

        /// <summary>The one removal (see <see cref="SandboxRemover"/>); false when it was already gone.</summary>
        Task<bool> RemoveAsync(Sandbox sandbox, CancellationToken cancel);

        /// <summary>Removes what ended sandboxes left behind (deadline volumes, deadline writers).</summary>
        Task PruneLeftoversAsync(CancellationToken cancel);

        /// <summary>Makes sure the image is where sandboxes start (a pool's first members should not wait for a pull).</summary>
        Task EnsureImageAsync(string image, ImageOrigin origin, CancellationToken cancel);

        /// <summary>Builds a code folder's image where sandboxes start (-Build).</summary>
        Task<Build.BuildResult> BuildImageAsync(Build.BuildContext context, IProgress<Build.BuildProgress>? progress, CancellationToken cancel);

        /// <summary>The deadlines of the engine that runs <paramref name="sandbox"/>.</summary>
        Task<SandboxDeadlines> DeadlinesAsync(Sandbox sandbox, CancellationToken cancel);

        /// <summary>The engine that runs the sandbox's processes: exec, copies, sessions and terminals go there.</summary>
        Task<DockerEngine> WorkEngineAsync(Sandbox sandbox, CancellationToken cancel);
    }
}
