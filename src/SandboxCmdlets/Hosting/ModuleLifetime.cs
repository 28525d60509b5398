using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Hosting
{
    /// <summary>
    /// On import, sweeps expired sandboxes from the default engine (and the default cluster, $env:SANDBOX_CLUSTER) in the background; on removal, stops the cleanup engine
    /// and the pools and lets go of everything the process held: engine clients, SSH sessions and their standby channels,
    /// port tunnels, and what it knew about deadlines and completions.
    /// </summary>
    public sealed class ModuleLifetime : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        public void OnImport()
        {
            if (System.Environment.GetEnvironmentVariable("SANDBOX_NO_IMPORT_SWEEP") == "1") return;
            Task.Run(() => SweepAsync(() => EndpointResolver.Default.Resolve(null)));
            // A swarm task cannot remove its service when its deadline ends it: the default cluster is swept too.
            Task.Run(() => SweepAsync(() => EndpointResolver.Default.ResolveCluster(null)?.AsCluster()));
        }

        static async Task SweepAsync(System.Func<DockerEndpoint?> place)
        {
            try
            {
                if (!(place() is DockerEndpoint endpoint)) return;
                var backend = await SandboxBackends.ConnectAsync(endpoint, CancellationToken.None).ConfigureAwait(false);
                await CleanupEngine.Instance.SweepAsync(backend, thorough: true, CancellationToken.None).ConfigureAwait(false);
            }
            catch (System.Exception) { /* no engine (or cluster) yet: the first cmdlet will say so */ }
        }

        public void OnRemove(PSModuleInfo module)
        {
            SandboxHooks.Reset();
            SandboxPools.StopAll(System.TimeSpan.FromSeconds(30));
            Sessions.SandboxSessions.CloseAll();
            CleanupEngine.Shutdown();
            Endpoints.Ssh.PortTunnels.CloseAll();
            DockerEngine.DisposeAll();
            EngineClock.Forget();
            SandboxDeadlines.ForgetAll();
            Completion.CompletionSource.Forget();
        }
    }
}
