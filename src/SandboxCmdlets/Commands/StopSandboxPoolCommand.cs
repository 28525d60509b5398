using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>Stops refilling a pool and removes its waiting sandboxes; sandboxes already taken from it stay.</summary>
    [Cmdlet(VerbsLifecycle.Stop, "SandboxPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByName)]
    [OutputType(typeof(SandboxPool))]
    public sealed class StopSandboxPoolCommand : PSCmdlet
    {
        const string ByName = "Name";
        const string ByPool = "Pool";

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByPool)]
        [ValidateNotNull]
        public SandboxPool[] Pool { get; set; } = null!;

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(Completion.SandboxPoolNameCompleter))]
        public string[] Name { get; set; } = null!;

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            var targets = ParameterSetName == ByPool ? Pool : PoolNames.Match(SandboxPools.All, Name, this).SelectMany(p => p).Distinct().ToArray();
            foreach (var pool in targets)
            {
                if (!ShouldProcess($"pool '{pool.Name}' ({pool.Ready} waiting) on {pool.DockerHost}", "Stop sandbox pool and remove its waiting sandboxes")) continue;
                // Bounded: removing the waiting members is a few engine calls, done in parallel.
                SandboxPools.StopAsync(pool).GetAwaiter().GetResult();
                Completion.CompletionSource.Invalidate();
                if (PassThru) WriteObject(pool);
            }
        }
    }
}
