using System.Management.Automation;
using Sandbox.Endpoints;

namespace Sandbox.Commands
{
    /// <summary>Get-SandboxSnapshot and Remove-SandboxSnapshot: snapshots are images of one engine, never of a cluster.</summary>
    public abstract class SnapshotCmdletBase : SandboxCmdletBase
    {
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? DockerHost { get; set; }

        /// <summary>-DockerHost, else DOCKER_HOST, the Docker context or the default socket ($env:SANDBOX_CLUSTER does not apply).</summary>
        protected DockerEngine ConnectEngine(string? dockerHost) => ConnectEngine(ResolveEndpoint(dockerHost));

        protected DockerEngine ConnectEngine(DockerEndpoint endpoint)
        {
            var engine = Run(c => DockerEngine.ConnectAsync(endpoint, c));
            KnownEndpoints.Remember(endpoint);
            return engine;
        }
    }
}
