using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Files;
using Sandbox.Lifecycle;

namespace Sandbox.Cluster
{
    /// <summary>
    /// Sandboxes on a Docker Swarm: each one a service with one task, placed by the swarm where its reservations fit. The
    /// manager is asked where a task runs (node, container); the work itself (exec, copies, sessions, ports, deadline file)
    /// goes to that node's engine through the single-engine code.
    /// </summary>
    public sealed class SwarmBackend : ISandboxBackend
    {
        /// <summary>How long a task may wait for a node that can take it before the sandbox is refused.</summary>
        static readonly TimeSpan PlacementWait = TimeSpan.FromSeconds(10);
        /// <summary>How long a placed task may take to start (the node may be pulling the image).</summary>
        static readonly TimeSpan StartWait = TimeSpan.FromMinutes(5);

        /// <summary>Clusters this process used, for the cleanup engine's sweeps.</summary>
        static readonly ConcurrentDictionary<string, DockerEndpoint> Used = new ConcurrentDictionary<string, DockerEndpoint>();

        public DockerEngine Manager { get; }
        public DockerEndpoint Endpoint => Manager.Endpoint;
        DockerClient Client => Manager.Client;
        string Host => Manager.Endpoint.Host;

        SwarmBackend(DockerEngine manager) => Manager = manager;

        public static DockerEndpoint[] Connected() => Used.Values.ToArray();

        public static async Task<SwarmBackend> ConnectAsync(DockerEndpoint endpoint, CancellationToken cancel)
        {
            var engine = await DockerEngine.ConnectAsync(endpoint, cancel).ConfigureAwait(false);
            if (!Used.ContainsKey(endpoint.CacheKey))
            {
                try { await engine.Client.Swarm.InspectSwarmAsync(cancel).ConfigureAwait(false); }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.ServiceUnavailable || e.StatusCode == HttpStatusCode.NotAcceptable)
                {
                    throw new SandboxException("NotASwarmManager", SandboxErrorKind.InvalidArgument,
                        $"The engine at {endpoint.Host} is not a manager of a swarm: {EngineErrors.Message(e)}", endpoint.Host,
                        "Give -Cluster the address of a manager node (docker node ls there shows one as Leader), or make this engine one with 'docker swarm init'.", e);
                }
                catch (Exception e) when (!(e is OperationCanceledException) && !(e is DockerApiException)) { throw DockerEngine.Translate(e, endpoint); }
                Used[endpoint.CacheKey] = endpoint;
            }
            return new SwarmBackend(engine);
        }

        // ---- create ---------------------------------------------------------------------------------------------------

        public async Task<Sandbox> CreateAsync(SandboxSpec spec, IProgress<PullProgress>? pullProgress, IProgress<TransferProgress>? copyProgress, CancellationToken cancel)
        {
            var name = spec.Name ?? SandboxNames.New(spec.ProjectId).Replace('.', '-');
            SandboxNames.ValidateForService(name);
            ImageReference.Validate(spec.Image);

            TimeSpan clockOffset;
            try { clockOffset = await EngineClock.OffsetAsync(Manager, cancel).ConfigureAwait(false); }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, Endpoint); }
            var parameters = ServiceSettings.ForSandbox(spec, name, spec.PlacementConstraints, DateTime.UtcNow, clockOffset);
            cancel.ThrowIfCancellationRequested();
            string serviceId;
            try
            {
                // Never cut off (as on one engine): a create cancelled mid-way may still make the service.
                serviceId = (await Client.Swarm.CreateServiceAsync(parameters, CancellationToken.None).ConfigureAwait(false)).ID ?? name;
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
            {
                throw new SandboxException("SandboxNameConflict", SandboxErrorKind.ResourceExists,
                    $"A service named '{name}' already exists on cluster {Host}. Choose another -Name or stop it with Stop-Sandbox -Name {name} -Cluster {Host}.", name, null, e);
            }
            catch (DockerApiException e) { throw EngineErrors.CreateFailure(e, spec, name, Host); }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, Endpoint); }

            try
            {
                var (task, node) = await WaitForTaskAsync(serviceId, name, spec, cancel).ConfigureAwait(false);
                var nodeEndpoint = NodeEndpoints.For(Endpoint, node);
                var nodeEngine = await ConnectNodeAsync(nodeEndpoint, node, cancel).ConfigureAwait(false);
                var containerId = task.Status!.ContainerStatus!.ContainerID!;
                await WorkspaceCopy.CopyInAsync(nodeEngine, containerId, spec, copyProgress, cancel).ConfigureAwait(false);
                cancel.ThrowIfCancellationRequested();
                var inspect = await nodeEngine.Client.Containers.InspectContainerAsync(containerId, CancellationToken.None).ConfigureAwait(false);
                var sandbox = SandboxMapper.FromInspect(inspect, nodeEndpoint.Host);
                SwarmMapper.Attach(sandbox, serviceId, task, node, nodeEndpoint, Endpoint, serviceName: name);
                // The deadline counts from the service's creation (as PID 1's does), not from its container's, which the
                // node makes some hundreds of milliseconds later.
                var service = await Client.Swarm.InspectServiceAsync(serviceId, CancellationToken.None).ConfigureAwait(false);
                if (service.CreatedAt is DateTime serviceCreated) SandboxDeadlines.FromEngineCreation(sandbox, serviceCreated.ToUniversalTime());
                if (nodeEndpoint.Kind == EndpointKind.Ssh && sandbox.Ports.Length > 0)
                    Endpoints.Ssh.PortTunnels.Open(Endpoints.Ssh.SshSession.For(nodeEndpoint), sandbox);
                return sandbox;
            }
            catch (Exception e)
            {
                await RemoveServiceAfterFailedCreateAsync(serviceId).ConfigureAwait(false);
                if (e is DockerApiException api) throw EngineErrors.CreateFailure(api, spec, name, Host);
                if (e is OperationCanceledException) throw;
                throw DockerEngine.Translate(e, Endpoint);
            }
        }

        /// <summary>
        /// Waits until the service's task runs, and returns it with its node. A task no node can take (reservations too large,
        /// constraints nobody meets) is refused after <see cref="PlacementWait"/>; one that a node could not start, at once.
        /// </summary>
        async Task<(TaskResponse Task, NodeListResponse Node)> WaitForTaskAsync(string serviceId, string name, SandboxSpec spec, CancellationToken cancel)
        {
            var clock = Stopwatch.StartNew();
            var filters = new Dictionary<string, IDictionary<string, bool>> { ["service"] = new Dictionary<string, bool> { [serviceId] = true } };
            for (var poll = 0; ; poll++)
            {
                var task = (await Client.Tasks.ListAsync(new TasksListParameters { Filters = filters }, cancel).ConfigureAwait(false))
                    .OrderByDescending(t => t.CreatedAt ?? DateTime.MinValue).FirstOrDefault();
                var state = task?.Status?.State;
                if (state == TaskState.Running && !string.IsNullOrEmpty(task!.Status!.ContainerStatus?.ContainerID))
                    return (task, await Client.Swarm.InspectNodeAsync(task.NodeID!, cancel).ConfigureAwait(false));
                if (task != null && SwarmTasks.HasEnded(state))
                    throw await StartFailureAsync(task, name, spec, cancel).ConfigureAwait(false);
                var placed = task != null && !string.IsNullOrEmpty(task.NodeID);
                if (!placed && clock.Elapsed > PlacementWait) throw NoNodeFor(name, spec, task);
                if (placed && clock.Elapsed > StartWait)
                    throw new SandboxException("SandboxStartTimeout", SandboxErrorKind.OperationTimeout,
                        $"Sandbox '{name}' was placed on a node of cluster {Host} but did not start within {StartWait.TotalMinutes} minutes (task {SwarmTasks.Name(state)}{Detail(task)}).", name);
                // Placement and start take some tens of milliseconds: ask often at first.
                await Task.Delay(poll < 40 ? 25 : 200, cancel).ConfigureAwait(false);
            }
        }

        SandboxException NoNodeFor(string name, SandboxSpec spec, TaskResponse? task)
        {
            var asked = $"{(spec.Limits.NanoCpus / 1e9).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} CPUs and {Units.FormatBytes(spec.Limits.Memory)} of memory reserved";
            if (spec.PlacementConstraints.Count > 0) asked += $", constraints {string.Join(" and ", spec.PlacementConstraints)}";
            return new SandboxException("NoNodeForSandbox", SandboxErrorKind.ResourceUnavailable,
                $"No node of cluster {Host} can take sandbox '{name}' ({asked}): {(task == null ? "the swarm made no task" : Detail(task).TrimStart(':', ' '))} after {PlacementWait.TotalSeconds:0} s. Nothing was left behind.",
                name, "Ask for less with -Cpus and -Memory (the swarm reserves what a sandbox may use), loosen -PlacementConstraint, or add nodes.");
        }

        async Task<SandboxException> StartFailureAsync(TaskResponse task, string name, SandboxSpec spec, CancellationToken cancel)
        {
            string node = task.NodeID ?? "?";
            try { node = (await Client.Swarm.InspectNodeAsync(node, cancel).ConfigureAwait(false)).Description?.Hostname ?? node; }
            catch (Exception) { /* only for the message: the node's id stands in */ }
            var detail = Detail(task).TrimStart(':', ' ');
            var missingImage = detail.IndexOf("No such image", StringComparison.OrdinalIgnoreCase) >= 0 || detail.IndexOf("pull access denied", StringComparison.OrdinalIgnoreCase) >= 0;
            return new SandboxException(missingImage ? "ImageNotOnNode" : "SandboxStartFailed", missingImage ? SandboxErrorKind.ObjectNotFound : SandboxErrorKind.InvalidOperation,
                $"Node {node} of cluster {Host} could not start sandbox '{name}' (task {SwarmTasks.Name(task.Status?.State)}): {detail}", missingImage ? spec.Image : name,
                missingImage ? $"Every node needs image '{spec.Image}': push it to a registry the nodes can pull from, or load it on each node (docker save | docker -H <node> load)." : null);
        }

        static string Detail(TaskResponse? task)
        {
            var err = task?.Status?.Err;
            var message = task?.Status?.Message;
            return !string.IsNullOrEmpty(err) ? ": " + err : !string.IsNullOrEmpty(message) ? ": " + message : "";
        }

        async Task RemoveServiceAfterFailedCreateAsync(string serviceId)
        {
            try { await Client.Swarm.RemoveServiceAsync(serviceId, CancellationToken.None).ConfigureAwait(false); }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { }
            catch (Exception) { /* the create's error is the one the user needs; the service carries labels, so a sweep finds it */ }
        }

        static async Task<DockerEngine> ConnectNodeAsync(DockerEndpoint nodeEndpoint, NodeListResponse node, CancellationToken cancel)
        {
            try { return await DockerEngine.ConnectAsync(nodeEndpoint, cancel).ConfigureAwait(false); }
            catch (SandboxException e) when (e.ErrorId == "DockerEndpointUnavailable" || e.ErrorId == "TlsHandshakeFailed")
            {
                throw new SandboxException("NodeEngineUnavailable", SandboxErrorKind.ConnectionError,
                    $"The sandbox runs on node {node.Description?.Hostname}, whose engine at {nodeEndpoint.Host} cannot be reached: {e.Message}", nodeEndpoint.Host,
                    "Every node's engine must be reachable from here, as the manager's is (same port and credentials), or mapped with -NodeEndpoint.", e);
            }
        }

        // ---- find -----------------------------------------------------------------------------------------------------

        public async Task<IReadOnlyList<Sandbox>> ListAsync(CancellationToken cancel, string? projectId = null)
        {
            var labels = new Dictionary<string, bool> { [$"{SandboxLabels.Managed}=true"] = true };
            if (!string.IsNullOrEmpty(projectId)) labels[$"{SandboxLabels.Project}={projectId}"] = true;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var services = await Client.Swarm.ListServicesAsync(new ServiceListParameters
                    {
                        Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = labels },
                    }, cancel).ConfigureAwait(false);
                    if (services.Count == 0) return Array.Empty<Sandbox>();
                    ILookup<string, TaskResponse> tasksOf;
                    try
                    {
                        tasksOf = (await Client.Tasks.ListAsync(new TasksListParameters
                        {
                            Filters = new Dictionary<string, IDictionary<string, bool>> { ["service"] = services.ToDictionary(s => s.ID, _ => true) },
                        }, cancel).ConfigureAwait(false)).ToLookup(t => t.ServiceID);
                    }
                    catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound && attempt < ListAttempts)
                    {
                        // The manager refuses a task filter that names a service removed since the list (a removal by
                        // any process): list again, without it.
                        continue;
                    }
                    var nodes = (await Client.Swarm.ListNodesAsync(cancel).ConfigureAwait(false)).ToDictionary(n => n.ID);
                    var sandboxes = services.Select(service =>
                    {
                        var task = tasksOf[service.ID].OrderByDescending(t => t.CreatedAt ?? DateTime.MinValue).FirstOrDefault();
                        var node = task?.NodeID != null && nodes.TryGetValue(task.NodeID, out var n) ? n : null;
                        return SwarmMapper.FromService(service, task, node, node == null ? null : TryNodeEndpoint(node), Endpoint);
                    }).OrderBy(s => s.Node ?? "").ThenBy(s => s.CreatedAt).ToList();
                    // As on one engine: a label deadline that passed may have been moved (the file on the node says).
                    await Task.WhenAll(sandboxes.Where(s => s.IsExpired && s.EngineState == "running" && s.Labels.ContainsKey(SandboxLabels.DeadlineVolume))
                        .Select(s => RefreshDeadlineAsync(s, cancel))).ConfigureAwait(false);
                    await SandboxPools.MarkMembersAsync(sandboxes, s => DeadlinesAsync(s, cancel), cancel).ConfigureAwait(false);
                    return sandboxes;
                }
                catch (Exception e) when (!(e is OperationCanceledException) && !(e is SandboxException)) { throw DockerEngine.Translate(e, Endpoint); }
            }
        }

        const int ListAttempts = 3;

        DockerEndpoint? TryNodeEndpoint(NodeListResponse node)
        {
            try { return NodeEndpoints.For(Endpoint, node); }
            catch (SandboxException) { return null; /* a node without an address: listed, but nothing can run on it from here */ }
        }

        async Task RefreshDeadlineAsync(Sandbox sandbox, CancellationToken cancel) =>
            await (await DeadlinesAsync(sandbox, cancel).ConfigureAwait(false)).RefreshAsync(sandbox, cancel).ConfigureAwait(false);

        public async Task<(Sandbox[] Expired, Sandbox[] Unknown)> ListExpiredAsync(CancellationToken cancel)
        {
            var sandboxes = await ListAsync(cancel).ConfigureAwait(false);
            var running = sandboxes.Where(s => !s.IsExpired && s.EngineState == "running" && s.Endpoint != null && s.Labels.ContainsKey(SandboxLabels.DeadlineVolume));
            await Task.WhenAll(running.Select(s => RefreshDeadlineAsync(s, cancel))).ConfigureAwait(false);
            return (sandboxes.Where(SandboxDeadlines.IsOver).ToArray(), sandboxes.Where(s => s.DeadlineUnknown).ToArray());
        }

        public async Task<Sandbox?> FindAsync(string idOrName, CancellationToken cancel)
        {
            var all = await ListAsync(cancel).ConfigureAwait(false);
            return all.FirstOrDefault(s => s.Name == idOrName || s.ServiceId == idOrName || s.Id == idOrName)
                ?? all.FirstOrDefault(s => s.Id.StartsWith(idOrName, StringComparison.OrdinalIgnoreCase) || (s.ServiceId ?? "").StartsWith(idOrName, StringComparison.OrdinalIgnoreCase));
        }

        // ---- remove ---------------------------------------------------------------------------------------------------

        public Task<bool> RemoveAsync(Sandbox sandbox, CancellationToken cancel) => new ServiceRemover(this).RemoveAsync(sandbox, cancel);

        /// <summary>Each reachable node's leftovers (deadline volumes and writers), as on one engine.</summary>
        public async Task PruneLeftoversAsync(CancellationToken cancel)
        {
            var nodes = await Client.Swarm.ListNodesAsync(cancel).ConfigureAwait(false);
            await Task.WhenAll(nodes.Where(n => string.Equals(n.Status?.State, "ready", StringComparison.OrdinalIgnoreCase)).Select(async node =>
            {
                try
                {
                    var manager = await SandboxManager.ConnectAsync(NodeEndpoints.For(Endpoint, node), cancel).ConfigureAwait(false);
                    await manager.Remover.PruneLeftoversAsync(cancel).ConfigureAwait(false);
                }
                catch (Exception e) when (!(e is OperationCanceledException)) { /* that node is unreachable from here: the next prune tries again */ }
            })).ConfigureAwait(false);
        }

        // ---- work -----------------------------------------------------------------------------------------------------

        /// <summary>Each node gets the image itself when a task is placed there; a node that cannot is reported by the create.</summary>
        public Task EnsureImageAsync(string image, ImageOrigin origin, CancellationToken cancel) => Task.CompletedTask;

        /// <summary>An image built on one engine would be on one node only: a cluster's images come from a registry.</summary>
        public Task<Build.BuildResult> BuildImageAsync(Build.BuildContext context, IProgress<Build.BuildProgress>? progress, CancellationToken cancel) =>
            throw NotBuildable(Endpoint.Host);

        internal static SandboxException NotBuildable(string cluster) =>
            new SandboxException("BuildNotOnCluster", SandboxErrorKind.InvalidArgument,
                "-Build makes an image on one engine, which the other nodes of a cluster would not have.", cluster,
                "Build the image, push it to a registry every node can pull from (or load it on each node), and give it to -Image.");

        public async Task<SandboxDeadlines> DeadlinesAsync(Sandbox sandbox, CancellationToken cancel) =>
            (await SandboxManager.ConnectAsync(NodeOf(sandbox), cancel).ConfigureAwait(false)).Deadlines;

        public Task<DockerEngine> WorkEngineAsync(Sandbox sandbox, CancellationToken cancel) => DockerEngine.ConnectAsync(NodeOf(sandbox), cancel);

        static DockerEndpoint NodeOf(Sandbox sandbox) =>
            sandbox.Endpoint ?? throw new SandboxException("SandboxNotRunning", SandboxErrorKind.InvalidOperation,
                $"Sandbox '{sandbox.Name}' has no running task on cluster {sandbox.Cluster} (task {sandbox.TaskState}), so nothing can run in it.", sandbox.Name);
    }
}
