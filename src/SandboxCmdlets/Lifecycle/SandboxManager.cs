using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Cluster;
using Sandbox.Files;

namespace Sandbox.Lifecycle
{
    /// <summary>Creates and finds sandboxes on one engine. The engine's labels are the only state.</summary>
    public sealed class SandboxManager : ISandboxBackend
    {
        public DockerEngine Engine { get; }
        public SandboxDeadlines Deadlines { get; }
        public SandboxRemover Remover { get; }
        public DockerEndpoint Endpoint => Engine.Endpoint;
        DockerClient Client => Engine.Client;
        string Host => Engine.Endpoint.Host;

        public SandboxManager(DockerEngine engine)
        {
            Engine = engine;
            Deadlines = new SandboxDeadlines(engine);
            Remover = new SandboxRemover(engine);
        }

        public static async Task<SandboxManager> ConnectAsync(DockerEndpoint endpoint, CancellationToken cancel) =>
            new SandboxManager(await DockerEngine.ConnectAsync(endpoint, cancel).ConfigureAwait(false));

        /// <summary>A sandbox object leads back to the endpoint (and credentials) it was reached with.</summary>
        Sandbox Attach(Sandbox sandbox)
        {
            sandbox.Endpoint = Engine.Endpoint;
            return sandbox;
        }

        public async Task<Sandbox> CreateAsync(SandboxSpec spec, IProgress<PullProgress>? pullProgress, IProgress<TransferProgress>? copyProgress, CancellationToken cancel)
        {
            var name = spec.Name ?? SandboxNames.New(spec.ProjectId);
            SandboxNames.Validate(name);
            ImageReference.Validate(spec.Image);

            var clockOffset = await EngineClock.OffsetAsync(Engine, cancel).ConfigureAwait(false);
            var parameters = ContainerSettings.ForSandbox(spec, name, DateTime.UtcNow, clockOffset);
            string id;
            try
            {
                // Created straight away rather than after asking whether the image is there: that question cost a
                // round trip on every create, for the rare first use of an image, which the engine reports anyway.
                // A missing image, or settings the engine refused (which may be the image reference), take the
                // careful way: the image is checked (pulled, or its reference refused) and the create tried again.
                try { id = await CreateContainerAsync(parameters, cancel).ConfigureAwait(false); }
                catch (DockerApiException e) when ((e.StatusCode == HttpStatusCode.BadRequest && !EngineRuntimes.IsUnknownRuntime(e)) ||
                    (e.StatusCode == HttpStatusCode.NotFound && EngineErrors.Message(e).IndexOf("no such image", StringComparison.OrdinalIgnoreCase) >= 0))
                {
                    await new ImagePuller(Engine).EnsureAsync(spec.Image, pullProgress, cancel, spec.ImageOrigin).ConfigureAwait(false);
                    parameters = ContainerSettings.ForSandbox(spec, name, DateTime.UtcNow, clockOffset);     // the deadline counts from after the pull
                    id = await CreateContainerAsync(parameters, cancel).ConfigureAwait(false);
                }
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
            {
                throw new SandboxException("SandboxNameConflict", SandboxErrorKind.ResourceExists,
                    $"A container named '{name}' already exists on {Host}. Choose another -Name or stop it with Stop-Sandbox -Name {name}.", name, null, e);
            }
            catch (DockerApiException e) when (spec.Runtime != null && EngineRuntimes.IsUnknownRuntime(e))
            {
                throw await EngineRuntimes.NotRegisteredAsync(Engine, spec.Runtime, e).ConfigureAwait(false);
            }
            catch (DockerApiException e) { throw EngineErrors.CreateFailure(e, spec, name, Host); }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, Engine.Endpoint); }

            try
            {
                cancel.ThrowIfCancellationRequested();
                await Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), CancellationToken.None).ConfigureAwait(false);
                await WorkspaceCopy.CopyInAsync(Engine, id, spec, copyProgress, cancel).ConfigureAwait(false);
                cancel.ThrowIfCancellationRequested();
                var inspect = await Client.Containers.InspectContainerAsync(id, CancellationToken.None).ConfigureAwait(false);
                var sandbox = Attach(SandboxMapper.FromInspect(inspect, Host));
                if (Engine.Endpoint.Kind == EndpointKind.Ssh && sandbox.Ports.Length > 0)
                    Endpoints.Ssh.PortTunnels.Open(Endpoints.Ssh.SshSession.For(Engine.Endpoint), sandbox);
                return sandbox;
            }
            catch (Exception e)
            {
                await Remover.RemoveAfterFailedCreateAsync(id, parameters.Labels[SandboxLabels.DeadlineVolume]).ConfigureAwait(false);
                if (e is DockerApiException api) throw EngineErrors.CreateFailure(api, spec, name, Host);
                if (e is OperationCanceledException) throw;
                throw DockerEngine.Translate(e, Engine.Endpoint);
            }
        }

        /// <summary>
        /// The create itself is never cut off: a request cancelled mid-way may still make the container, which nobody would
        /// then know of. A Ctrl+C that came meanwhile removes it at once.
        /// </summary>
        async Task<string> CreateContainerAsync(CreateContainerParameters parameters, CancellationToken cancel)
        {
            cancel.ThrowIfCancellationRequested();
            var id = (await Client.Containers.CreateContainerAsync(parameters, CancellationToken.None).ConfigureAwait(false)).ID;
            if (!cancel.IsCancellationRequested) return id;
            await Remover.RemoveAfterFailedCreateAsync(id, parameters.Labels[SandboxLabels.DeadlineVolume]).ConfigureAwait(false);
            throw new OperationCanceledException(cancel);
        }

        public async Task<IReadOnlyList<Sandbox>> ListAsync(CancellationToken cancel, string? projectId = null)
        {
            var labels = new Dictionary<string, bool> { [$"{SandboxLabels.Managed}=true"] = true };
            if (!string.IsNullOrEmpty(projectId)) labels[$"{SandboxLabels.Project}={projectId}"] = true;
            var parameters = new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = labels },
            };
            try
            {
                var list = await Client.Containers.ListContainersAsync(parameters, cancel).ConfigureAwait(false);
                // A swarm task's container is its service's: listed, stopped and swept through the cluster (SwarmBackend).
                var sandboxes = list.Where(c => !SwarmTasks.IsTaskContainer(c.Labels)).Select(c => Attach(SandboxMapper.FromList(c, Host))).OrderBy(s => s.CreatedAt).ToList();
                // Labels cannot change, so a sandbox whose label deadline has passed but that still exists may have been
                // given more time: its real deadline is in the file its PID 1 watches. Whatever its state (running, paused,
                // or created and about to start): only a deadline known to have passed counts.
                await Task.WhenAll(sandboxes.Where(s => s.IsExpired && s.Labels.ContainsKey(SandboxLabels.DeadlineVolume))
                    .Select(s => Deadlines.RefreshAsync(s, cancel))).ConfigureAwait(false);
                await Deadlines.ReadSuspensionsAsync(sandboxes, cancel).ConfigureAwait(false);
                await SandboxPools.MarkMembersAsync(sandboxes, _ => Task.FromResult(Deadlines), cancel).ConfigureAwait(false);
                return sandboxes;
            }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, Engine.Endpoint); }
        }

        /// <summary>
        /// Sandboxes whose deadline is known to have passed, and those whose deadline could not be read (never removed).
        /// Unlike a listing, this reads every running sandbox's deadline file, so a deadline another process shortened
        /// counts too.
        /// </summary>
        public async Task<(Sandbox[] Expired, Sandbox[] Unknown)> ListExpiredAsync(CancellationToken cancel)
        {
            var sandboxes = await ListAsync(cancel).ConfigureAwait(false);
            var running = sandboxes.Where(s => !s.IsExpired && s.EngineState == "running" && s.Labels.ContainsKey(SandboxLabels.DeadlineVolume));
            await Task.WhenAll(running.Select(s => Deadlines.RefreshAsync(s, cancel))).ConfigureAwait(false);
            return (sandboxes.Where(SandboxDeadlines.IsOver).ToArray(), sandboxes.Where(s => s.DeadlineUnknown).ToArray());
        }

        /// <summary>Finds one of this module's sandboxes by full id, id prefix or name; null when none.</summary>
        public async Task<Sandbox?> FindAsync(string idOrName, CancellationToken cancel)
        {
            try
            {
                var inspect = await Client.Containers.InspectContainerAsync(idOrName, cancel).ConfigureAwait(false);
                var labels = inspect.Config?.Labels;
                if (labels == null || !labels.TryGetValue(SandboxLabels.Managed, out var managed) || managed != "true" || SwarmTasks.IsTaskContainer(labels)) return null;
                var sandbox = Attach(SandboxMapper.FromInspect(inspect, Host));
                await Deadlines.ReadSuspensionsAsync(new[] { sandbox }, cancel).ConfigureAwait(false);
                return sandbox;
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { return null; }
            catch (Exception e) when (!(e is DockerApiException)) { throw DockerEngine.Translate(e, Engine.Endpoint); }
        }

        public Task<bool> RemoveAsync(Sandbox sandbox, CancellationToken cancel) => Remover.RemoveAsync(sandbox, cancel);

        public Task PruneLeftoversAsync(CancellationToken cancel) => Remover.PruneLeftoversAsync(cancel);

        public Task EnsureImageAsync(string image, ImageOrigin origin, CancellationToken cancel) =>
            new ImagePuller(Engine).EnsureAsync(image, null, cancel, origin);

        public Task<Build.BuildResult> BuildImageAsync(Build.BuildContext context, IProgress<Build.BuildProgress>? progress, CancellationToken cancel) =>
            new Build.ImageBuilder(Engine).BuildAsync(context, progress, cancel);

        public Task<SandboxDeadlines> DeadlinesAsync(Sandbox sandbox, CancellationToken cancel) => Task.FromResult(Deadlines);

        public Task<DockerEngine> WorkEngineAsync(Sandbox sandbox, CancellationToken cancel) => Task.FromResult(Engine);
    }
}
