using System.Collections.Generic;
using Docker.DotNet.Models;

namespace Sandbox.Cluster
{
    /// <summary>What a swarm's tasks and nodes say, in the words a sandbox uses.</summary>
    public static class SwarmTasks
    {
        /// <summary>The engine labels every container of a swarm task with its service.</summary>
        public const string ServiceIdLabel = "com.docker.swarm.service.id";

        public static bool IsTaskContainer(IDictionary<string, string>? labels) => labels != null && labels.ContainsKey(ServiceIdLabel);

        /// <summary>A task that will never run (again): restart policy none, so its sandbox has ended.</summary>
        public static bool HasEnded(TaskState? state) =>
            state == TaskState.Complete || state == TaskState.Failed || state == TaskState.Shutdown || state == TaskState.Rejected ||
            state == TaskState.Orphaned || state == TaskState.Remove;

        /// <summary>Not yet given to a node, or given but not yet started there.</summary>
        public static bool IsStarting(TaskState? state) => state != null && state < TaskState.Running;

        /// <summary>The sandbox's engine state: running, created (on its way), exited (ended), or lost (its node is down).</summary>
        public static string EngineState(TaskState? state, bool nodeDown) =>
            nodeDown ? "lost" : state == TaskState.Running ? "running" : HasEnded(state) ? "exited" : "created";

        public static string Name(TaskState? state) => state?.ToString().ToLowerInvariant() ?? "unknown";

        /// <summary>A node's engine is reached at its address; a manager may report 0.0.0.0 there and its address beside its manager port.</summary>
        public static string AddressOf(NodeListResponse node)
        {
            var address = node.Status?.Addr ?? "";
            if ((address.Length == 0 || address == "0.0.0.0") && node.ManagerStatus?.Addr is string managerAddress && managerAddress.Length > 0)
            {
                var colon = managerAddress.LastIndexOf(':');
                address = colon > 0 ? managerAddress.Substring(0, colon) : managerAddress;
            }
            return address.Trim('[', ']');
        }

        /// <summary>Down or disconnected, or gone from the swarm: its tasks may still say "running", which is stale.</summary>
        public static bool IsDown(NodeListResponse? node) =>
            node == null || string.Equals(node.Status?.State, "down", System.StringComparison.OrdinalIgnoreCase) ||
            string.Equals(node.Status?.State, "disconnected", System.StringComparison.OrdinalIgnoreCase);
    }
}
