using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;

namespace Sandbox.Lifecycle
{
    /// <summary>
    /// The one way a sandbox is removed, whoever asks (Stop-Sandbox, Use-Sandbox, -Replace, a throwaway sandbox, the
    /// cleanup engine, a pool): the container and its deadline volume on the engine, then everything this process kept
    /// about it (tunnels, deadline, pool, cleanup engine). Hooks and events are the PowerShell layer's, after this.
    /// </summary>
    public sealed class SandboxRemover
    {
        readonly DockerEngine _engine;

        /// <summary>
        /// Sandboxes removed in this process, so that every object of one (the user's, a listing's, the cleanup engine's)
        /// says "removed". Ids are never reused; bounded, since a long session removes many.
        /// </summary>
        static readonly BoundedIdSet RemovedHere = new BoundedIdSet(4096);

        internal static bool IsRemovedHere(string id) => id.Length > 0 && RemovedHere.Contains(id);

        internal static void MarkRemoved(string id) => RemovedHere.Add(id);

        public SandboxRemover(DockerEngine engine) => _engine = engine;

        /// <summary>Kills and removes the sandbox; false when it was already gone. Throws when the engine would not remove it.</summary>
        public Task<bool> RemoveAsync(Sandbox sandbox, CancellationToken cancel) =>
            RemoveAsync(sandbox.Id, sandbox.Labels.TryGetValue(SandboxLabels.DeadlineVolume, out var volume) ? volume : null, cancel, sandbox);

        public async Task<bool> RemoveAsync(string id, string? deadlineVolume, CancellationToken cancel, Sandbox? sandbox = null)
        {
            BeforeRemoval(id);
            bool removed;
            try
            {
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await _engine.Client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, cancel).ConfigureAwait(false);
                        break;
                    }
                    // A busy overlay2 engine sometimes fails to delete a root file system ("directory not empty") and
                    // succeeds when asked again.
                    catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.InternalServerError && attempt < 4 &&
                        EngineErrors.Message(e).IndexOf("failed to remove root filesystem", StringComparison.OrdinalIgnoreCase) >= 0)
                    {
                        await Task.Delay(200 * attempt, cancel).ConfigureAwait(false);
                    }
                }
                removed = true;
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { removed = false; }
            // Another removal (the engine's auto-remove, a sweep, another process) is under way: removed means gone,
            // so wait for it to finish.
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict) { removed = true; await WaitGoneAsync(id, cancel).ConfigureAwait(false); }
            catch (DockerApiException e)
            {
                throw new SandboxException("SandboxRemoveFailed", SandboxErrorKind.InvalidOperation,
                    $"The engine did not remove sandbox '{sandbox?.Name ?? id}': {EngineErrors.Message(e)}", sandbox?.Name ?? id, null, e);
            }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, _engine.Endpoint); }

            AfterRemoval(id);
            await SandboxDeadlines.ReleasePusherAsync(id).ConfigureAwait(false);
            if (deadlineVolume != null) await RemoveVolumeAsync(deadlineVolume).ConfigureAwait(false);
            return removed;
        }

        /// <summary>What this process holds for a sandbox that is being removed: its tunnels, its place in a pool, its sessions.</summary>
        internal static void BeforeRemoval(string id)
        {
            Endpoints.Ssh.PortTunnels.Close(id);
            SandboxPools.Forget(id);
            Sessions.SandboxSessions.CloseFor(id);
        }

        /// <summary>Only once it is gone: a removal that failed keeps its place in the cleanup engine.</summary>
        internal static void AfterRemoval(string id)
        {
            SandboxDeadlines.Forget(id);
            if (CleanupEngine.IsCreated) CleanupEngine.Instance.Untrack(id);
            MarkRemoved(id);
        }

        /// <summary>For a create that failed: removes what it made, and never hides the create's own error.</summary>
        public async Task RemoveAfterFailedCreateAsync(string id, string? deadlineVolume)
        {
            try { await RemoveAsync(id, deadlineVolume, CancellationToken.None).ConfigureAwait(false); }
            catch (Exception) { /* the create's error is the one the user needs; the container carries labels, so a sweep finds it */ }
        }

        async Task WaitGoneAsync(string id, CancellationToken cancel)
        {
            for (var attempt = 0; attempt < 100; attempt++)
            {
                try { await _engine.Client.Containers.InspectContainerAsync(id, cancel).ConfigureAwait(false); }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { return; }
                catch (Exception e) when (!(e is OperationCanceledException)) { return; /* the other removal is the one to report */ }
                await Task.Delay(100, cancel).ConfigureAwait(false);
            }
        }

        internal async Task RemoveVolumeAsync(string name)
        {
            // An auto-removed container can still hold its volume for a moment.
            for (var attempt = 0; attempt < 10; attempt++)
            {
                try
                {
                    await _engine.Client.Volumes.RemoveAsync(name, true, CancellationToken.None).ConfigureAwait(false);
                    return;
                }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { return; }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict) { await Task.Delay(100).ConfigureAwait(false); }
                catch (Exception) { return; /* labelled: the next sweep's prune removes it */ }
            }
        }

        /// <summary>
        /// What sandboxes leave when they end on their own or a process dies mid-way: deadline volumes of sandboxes that
        /// auto-removed while no PowerShell ran, and deadline writers whose sandbox is gone.
        /// </summary>
        public async Task PruneLeftoversAsync(CancellationToken cancel)
        {
            var filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{SandboxLabels.DeadlineVolume}=true"] = true },
            };
            // Engines from API 1.42 on prune only anonymous volumes unless told 'all'; older ones refuse the filter.
            if (_engine.ApiVersion == null || _engine.ApiVersion >= new System.Version(1, 42))
                filters["all"] = new Dictionary<string, bool> { ["true"] = true };
            var helpers = await _engine.Client.Containers.ListContainersAsync(new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [SandboxLabels.HelperFor] = true } },
            }, cancel).ConfigureAwait(false);
            if (helpers.Count > 0)
            {
                var sandboxes = await _engine.Client.Containers.ListContainersAsync(new ContainersListParameters
                {
                    All = true,
                    Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{SandboxLabels.Managed}=true"] = true } },
                }, cancel).ConfigureAwait(false);
                var alive = new HashSet<string>(sandboxes.Select(s => s.ID));
                foreach (var orphan in helpers.Where(h => !alive.Contains(h.Labels[SandboxLabels.HelperFor])))
                {
                    try { await _engine.Client.Containers.RemoveContainerAsync(orphan.ID, new ContainerRemoveParameters { Force = true }, cancel).ConfigureAwait(false); }
                    catch (DockerApiException) { /* removed meanwhile, or the engine is busy: the next sweep tries again */ }
                }
            }
            // Volumes after writers: a writer holds its sandbox's deadline volume.
            try { await _engine.Client.Volumes.PruneAsync(new VolumesPruneParameters { Filters = filters }, cancel).ConfigureAwait(false); }
            catch (DockerApiException) { /* nothing to prune, or an engine that prunes differently */ }
        }
    }
}
