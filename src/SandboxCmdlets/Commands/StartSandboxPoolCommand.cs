using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Completion;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>Keeps -Size started sandboxes ready, so that New-Sandbox with the same settings returns at once.</summary>
    [Cmdlet(VerbsLifecycle.Start, "SandboxPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(SandboxPool))]
    public sealed class StartSandboxPoolCommand : SandboxCmdletBase
    {
        [Parameter(Position = 0)]
        [ValidateRange(1, 100)]
        public int Size { get; set; } = 2;

        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageCompleter))]
        public string? Image { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; } = "default";

        /// <summary>The pool's sandboxes start from this snapshot of the engine (see Save-Sandbox), as New-Sandbox -Snapshot.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SnapshotNameCompleter))]
        public string? Snapshot { get; set; }

        [Parameter]
        [ValidateRange(10, 86_400)]
        public int IdleTimeout { get; set; } = 600;

        [Parameter]
        [ValidateNotNull]
        public Hashtable? Limits { get; set; }

        [Parameter]
        [ValidateRange(6L * 1024 * 1024, long.MaxValue)]
        public long Memory { get; set; }

        [Parameter]
        [ValidateRange(0.01, 1024.0)]
        public double Cpus { get; set; }

        [Parameter]
        [ValidateRange(-1L, long.MaxValue)]
        public long PidsLimit { get; set; }

        [Parameter]
        [ArgumentCompleter(typeof(NetworkModeCompleter))]
        [ValidateNotNullOrEmpty]
        public string NetworkMode { get; set; } = "bridge";

        [Parameter]
        [ValidateNotNull]
        public Hashtable? Environment { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? User { get; set; }

        [Parameter]
        public SwitchParameter ReadOnly { get; set; }

        /// <summary>The engine's container runtime for the sandbox, such as runsc (gVisor); the engine's default (runc) when not given.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(RuntimeCompleter))]
        public string? Runtime { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? DockerHost { get; set; }

        /// <summary>Keep the pool's members on this swarm cluster (see New-Sandbox -Cluster).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Cluster { get; set; }

        [Parameter]
        [ValidateNotNull]
        public Hashtable? NodeEndpoint { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? PlacementConstraint { get; set; }

        [Parameter]
        public SwitchParameter Wait { get; set; }

        protected override void ProcessRecord()
        {
            DockerEndpoint endpoint;
            SandboxSpec template;
            try
            {
                SandboxNames.Validate(Name);
                endpoint = ResolvePlace(DockerHost, Cluster, NodeEndpoint);
                template = BuildTemplate(endpoint);
                EngineRuntimes.RefuseOnCluster(template.Runtime, endpoint);
            }
            catch (SandboxException e) { WriteSandboxError(e); return; }

            if (!ShouldProcess($"pool '{Name}' of {Size} sandboxes from image {template.Image} on {(endpoint.IsCluster ? "cluster " : "")}{endpoint.Host}", "Start sandbox pool")) return;

            SandboxPool pool;
            try
            {
                var manager = Connect(endpoint);
                RequireSnapshot(manager, Snapshot);
                // A missing image fails here, at once, rather than as a refill error later.
                Run(c => manager.EnsureImageAsync(template.Image, template.ImageOrigin, c));
                // A runtime the engine lacks too: each refill would fail with it.
                if (template.Runtime != null)
                    Run(async c => await EngineRuntimes.EnsureAsync(await DockerEngine.ConnectAsync(endpoint, c).ConfigureAwait(false), template.Runtime, c).ConfigureAwait(false));
                pool = SandboxPools.Start(Name, endpoint, template, Size, TimeSpan.FromSeconds(IdleTimeout));
            }
            catch (SandboxException e) { WriteSandboxError(e); return; }

            if (Wait && !WaitUntilFull(pool)) return;
            WriteObject(pool);
        }

        /// <summary>Same meaning as New-Sandbox's parameters, so that the pool's key matches New-Sandbox's.</summary>
        SandboxSpec BuildTemplate(DockerEndpoint endpoint)
        {
            var (image, origin) = ImageOrSnapshot(Image, Snapshot, endpoint);
            var spec = new SandboxSpec
            {
                Image = image,
                ImageOrigin = origin,
                NetworkMode = NetworkMode.Trim(),
                User = User?.Trim(),
                ReadOnlyRoot = ReadOnly,
                Runtime = Runtime?.Trim(),
                Environment = StringMap(Environment),
                PlacementConstraints = PlacementConstraint?.Select(c => c.Trim()).ToList() ?? new List<string>(),
            };
            if (spec.User != null) SandboxSpec.ValidateUser(spec.User);
            if (spec.Runtime != null) EngineRuntimes.Validate(spec.Runtime);
            ImageReference.Validate(spec.Image);

            spec.Limits = LimitsFrom(Limits, Memory, Cpus, PidsLimit);
            return spec;
        }

        /// <summary>Waits until every member has started; a failed start stops the pool and is the error.</summary>
        bool WaitUntilFull(SandboxPool pool)
        {
            try
            {
                Run(async c =>
                {
                    while (pool.Ready < pool.Size && pool.FailureCount == 0)
                    {
                        var ready = pool.Ready;
                        Post(() => WriteProgress(new ProgressRecord(3, $"Filling sandbox pool '{pool.Name}'", $"{ready} of {pool.Size} ready")
                        {
                            PercentComplete = ready * 100 / pool.Size,
                        }));
                        await Task.Delay(100, c).ConfigureAwait(false);
                    }
                });
            }
            catch (PipelineStoppedException)
            {
                StopQuietly(pool);
                throw;
            }
            finally
            {
                WriteProgress(new ProgressRecord(3, $"Filling sandbox pool '{pool.Name}'", "Done") { RecordType = ProgressRecordType.Completed });
            }
            if (pool.FailureCount == 0) return true;

            var error = pool.LastError;
            StopQuietly(pool);
            WriteSandboxError(new SandboxException("SandboxPoolFillFailed", SandboxErrorKind.InvalidOperation,
                $"{error} The pool was stopped.", Name, "Check the image and settings with New-Sandbox and the same parameters."));
            return false;
        }

        static void StopQuietly(SandboxPool pool) => SandboxPools.StopAsync(pool).Wait(TimeSpan.FromSeconds(30));
    }
}
