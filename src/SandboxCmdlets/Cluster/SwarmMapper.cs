using System;
using System.Collections.Generic;
using System.Linq;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Cluster
{
    /// <summary>A service, its task and the task's node, as a <see cref="Sandbox"/>.</summary>
    static class SwarmMapper
    {
        /// <summary>From a listing: the service's labels, the task's container and ports, the node's name and address.</summary>
        public static Sandbox FromService(SwarmService service, TaskResponse? task, NodeListResponse? node, DockerEndpoint? nodeEndpoint, DockerEndpoint cluster)
        {
            var nodeAddress = node == null ? null : SwarmTasks.AddressOf(node);
            var containerId = task?.Status?.ContainerStatus?.ContainerID;
            var ports = (task?.Status?.PortStatus?.Ports ?? new List<PortConfig>())
                .Where(p => p.PublishedPort > 0 && p.TargetPort != null)
                .Select(p => new SandboxPort { ContainerPort = (int)p.TargetPort!.Value, Protocol = p.Protocol ?? "tcp", HostIp = "0.0.0.0", HostPort = (int)p.PublishedPort!.Value });
            var sandbox = SandboxMapper.Build(string.IsNullOrEmpty(containerId) ? service.ID : containerId!, service.Spec?.Name, service.Spec?.TaskTemplate?.ContainerSpec?.Image ?? "",
                SwarmTasks.EngineState(task?.Status?.State, IsLost(task, node)),
                (service.CreatedAt ?? DateTime.UtcNow).ToUniversalTime(), Labels(service.Spec?.Labels), nodeEndpoint?.Host ?? cluster.Host, ports);
            Attach(sandbox, service.ID, task, node, nodeEndpoint, cluster);
            if (service.CreatedAt is DateTime created) SandboxDeadlines.FromEngineCreation(sandbox, created.ToUniversalTime());
            return sandbox;
        }

        /// <summary>The sandbox's own name is its service's: the container's is the task's (name.1.taskid).</summary>
        public static void Attach(Sandbox sandbox, string serviceId, TaskResponse? task, NodeListResponse? node, DockerEndpoint? nodeEndpoint, DockerEndpoint cluster, string? serviceName = null)
        {
            if (serviceName != null) sandbox.Name = serviceName;
            sandbox.ServiceId = serviceId;
            sandbox.Cluster = cluster.Host;
            sandbox.ClusterEndpoint = cluster;
            sandbox.Endpoint = nodeEndpoint;
            sandbox.Node = node?.Description?.Hostname;
            sandbox.NodeAddress = node == null ? null : SwarmTasks.AddressOf(node);
            sandbox.TaskState = SwarmTasks.Name(task?.Status?.State);
        }

        /// <summary>Its node is down: the task may still say "running", which is stale.</summary>
        static bool IsLost(TaskResponse? task, NodeListResponse? node) =>
            task != null && !string.IsNullOrEmpty(task.NodeID) && !SwarmTasks.HasEnded(task.Status?.State) && SwarmTasks.IsDown(node);

        static IReadOnlyDictionary<string, string> Labels(IDictionary<string, string>? labels) =>
            labels == null ? new Dictionary<string, string>() : new Dictionary<string, string>(labels);
    }
}
