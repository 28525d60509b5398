using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Sandbox.Completion;
using Sandbox.Endpoints;
using Sandbox.Files;
using Sandbox.Hosting;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>The parameters and the create step shared by New-Sandbox and Use-Sandbox.</summary>
    public abstract partial class NewSandboxCommandBase : SandboxCmdletBase
    {
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        [Parameter]
        public SwitchParameter CopyPath { get; set; }

        [Parameter]
        public SandboxPathAccess PathAccess { get; set; } = SandboxPathAccess.ReadWrite;

        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SandboxProjectIdCompleter))]
        public string? ProjectId { get; set; }

        [Parameter]
        public SwitchParameter Replace { get; set; }

        [Parameter]
        public SwitchParameter Reuse { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageCompleter))]
        public string? Image { get; set; }

        /// <summary>Start from a snapshot Save-Sandbox made on this engine (the image sandbox-snapshot/&lt;name&gt;:latest).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SnapshotNameCompleter))]
        public string? Snapshot { get; set; }

        [Parameter]
        [ValidateRange(0, 31_536_000)]
        public int Timeout { get; set; } = SandboxSpec.DefaultTimeoutSec;

        [Parameter]
        [ValidateRange(0, 31_536_000)]
        public int IdleTimeout { get; set; }

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
        [ValidateNotNullOrEmpty]
        public object[]? Port { get; set; }

        [Parameter]
        [ValidateNotNull]
        public Hashtable? Environment { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? User { get; set; }

        [Parameter]
        public SwitchParameter ReadOnly { get; set; }

        [Parameter]
        public ScriptBlock? OnStart { get; set; }

        [Parameter]
        public ScriptBlock? OnKill { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? DockerHost { get; set; }

        [Parameter]
        public SwitchParameter NoPool { get; set; }

        /// <summary>The engine's container runtime for the sandbox, such as runsc (gVisor); the engine's default (runc) when not given.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(RuntimeCompleter))]
        public string? Runtime { get; set; }

        /// <summary>Place the sandbox on this swarm cluster, through its manager: tcp://manager:2376 or ssh://user@manager.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Cluster { get; set; }

        /// <summary>With -Cluster: the engine of a node that is not reached at its own address as the manager is (NAT).</summary>
        [Parameter]
        [ValidateNotNull]
        public Hashtable? NodeEndpoint { get; set; }

        /// <summary>With -Cluster: swarm placement constraints, all of which the node must meet.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? PlacementConstraint { get; set; }

        /// <summary>Creates (or, with -Reuse, finds) the sandbox; null when the user declined or an error was written.</summary>
        protected Sandbox? CreateSandbox()
        {
            if (Replace && Reuse)
            {
                WriteSandboxError("ConflictingSwitches", ErrorCategory.InvalidArgument, "Use -Replace or -Reuse, not both.", ProjectId);
                return null;
            }

            SandboxSpec spec;
            DockerEndpoint endpoint;
            try
            {
                endpoint = ResolvePlace(DockerHost, Cluster, NodeEndpoint);
                spec = BuildSpec(endpoint);
            }
            catch (SandboxException e)
            {
                WriteSandboxError(e);
                return null;
            }

            ISandboxBackend manager;
            try
            {
                manager = Connect(endpoint);
                RequireSnapshot(manager, Snapshot);
            }
            catch (SandboxException e) { WriteSandboxError(e); return null; }

            if (spec.ProjectId != null)
            {
                var running = Run(c => manager.ListAsync(c, spec.ProjectId)).Where(s => s.EngineState == "running" || s.EngineState == "created").ToList();
                if (running.Count > 0)
                {
                    if (Reuse)
                    {
                        WriteVerbose($"Reusing sandbox '{running[0].Name}' of project '{spec.ProjectId}'.");
                        return running[0];
                    }
                    if (!Replace)
                    {
                        WriteError(new ErrorRecord(new InvalidOperationException(
                                $"Project '{spec.ProjectId}' already has a running sandbox '{running[0].Name}'. Use -Reuse to use it, -Replace to stop it and start a new one, or Stop-Sandbox -ProjectId {spec.ProjectId}."),
                            "SandboxProjectConflict", ErrorCategory.ResourceExists, spec.ProjectId));
                        return null;
                    }
                    foreach (var old in running)
                    {
                        if (!ShouldProcess($"{old.Name} ({old.ShortId})", "Replace sandbox")) return null;
                        RemoveSandbox(old, manager);
                    }
                }
            }

            var target = spec.Name ?? (spec.ProjectId != null ? $"project '{spec.ProjectId}'" : "new sandbox");
            if (!ShouldProcess($"{target} from {ImageShown(spec)} on {(endpoint.IsCluster ? "cluster " : "")}{endpoint.Host}", "Create sandbox")) return null;
            if (Build && !BuildImage(spec, manager)) return null;

            var pull = new PullProgressView(this);
            Sandbox sandbox;
            try
            {
                sandbox = TakeFromPool(endpoint, spec) ?? Run(c => manager.CreateAsync(spec,
                    PipelineProgress<PullProgress>(pull.Show),
                    PipelineProgress<TransferProgress>(p => CopyProgressView.Show(this, 2, $"Copying {spec.CodePath} into the sandbox", p)), c));
            }
            catch (SandboxException e)
            {
                WriteSandboxError(e);
                return null;
            }
            finally
            {
                pull.Complete();
                CopyProgressView.Complete(this, 2, "Copying code");
            }

            CleanupEngine.Instance.Track(sandbox, endpoint);
            CompletionSource.Invalidate();
            SandboxHooks.Attach(Events);
            if (OnKill != null) SandboxHooks.RegisterOnKill(Events, sandbox, OnKill);
            if (OnStart != null)
            {
                try { SandboxHooks.Invoke(OnStart, sandbox); }
                catch (Exception e) { WriteWarning($"The -OnStart hook of sandbox '{sandbox.Name}' failed: {(e is RuntimeException r ? r.ErrorRecord.ToString() : e.Message)}"); }
            }
            return sandbox;
        }

        /// <summary>
        /// A started sandbox from a warm pool with the same settings (Start-SandboxPool), unless -NoPool; null when none is
        /// ready, or when the hand-over failed, which is said: then the caller makes a fresh sandbox.
        /// </summary>
        Sandbox? TakeFromPool(DockerEndpoint endpoint, SandboxSpec spec)
        {
            if (NoPool) return null;
            var (sandbox, failure) = Run(c => SandboxPools.TakeAsync(endpoint, spec, c));
            if (failure != null) WriteWarning($"{failure} Making a fresh sandbox instead.");
            if (sandbox != null) WriteVerbose($"Took sandbox '{sandbox.Name}' from pool '{sandbox.Pool}'.");
            return sandbox;
        }

        SandboxSpec BuildSpec(DockerEndpoint endpoint)
        {
            if (Snapshot != null && (Build || BaseImage != null))
                throw new SandboxException("ConflictingImage", SandboxErrorKind.InvalidArgument,
                    $"-Snapshot '{Snapshot}' is the image the sandbox starts from; -Build would build another. Give one of them.", Snapshot);
            var (image, origin) = ImageOrSnapshot(Image, Snapshot, endpoint);
            var spec = new SandboxSpec
            {
                Image = image,
                ImageOrigin = origin,
                Name = Name,
                ProjectId = ProjectId?.Trim(),
                TimeoutSec = Timeout,
                IdleTimeoutSec = IdleTimeout,
                NetworkMode = NetworkMode.Trim(),
                CodeAccess = RequestedPathAccess(),
                User = User?.Trim(),
                ReadOnlyRoot = ReadOnly,
                Runtime = Runtime?.Trim(),
            };
            if (spec.User != null) SandboxSpec.ValidateUser(spec.User);
            if (spec.Runtime != null) EngineRuntimes.Validate(spec.Runtime);
            EngineRuntimes.RefuseOnCluster(spec.Runtime, endpoint);
            if (spec.ProjectId != null && spec.ProjectId.Length == 0)
                throw new SandboxException("InvalidProjectId", SandboxErrorKind.InvalidArgument, "The project id is blank.", ProjectId);
            if (Name != null) SandboxNames.Validate(Name);
            ImageReference.Validate(spec.Image);

            spec.CodePath = ResolveCodePath(spec.ProjectId, endpoint);
            spec.CodeIsProjectFolder = spec.CodePath != null && Path == null;
            if (spec.CodePath == null && (CopyPath || PathAccessGiven))
                throw new SandboxException("PathRequired", SandboxErrorKind.InvalidArgument,
                    $"{(CopyPath ? "-CopyPath" : "-PathAccess")} needs -Path (or -ProjectId) to name the folder for /workspace.", null);
            if (spec.CodePath != null && spec.CodeAccess != SandboxPathAccess.Copy && (!endpoint.IsLocal || endpoint.IsCluster))
            {
                WriteVerbose($"{endpoint.Host} is {(endpoint.IsCluster ? "a cluster, whose nodes" : "a remote engine, which")} cannot mount a folder of this machine: '{spec.CodePath}' is copied in instead" +
                    (spec.CodeAccess == SandboxPathAccess.ReadOnly ? ", which leaves it untouched as -PathAccess ReadOnly would, but the copy is writable." : "; changes inside do not come back."));
                spec.CodeAccess = SandboxPathAccess.Copy;
            }
            // Refused before the folder is read and anything is made (the backend refuses too).
            if (endpoint.IsCluster && (Build || BaseImage != null)) throw global::Sandbox.Cluster.SwarmBackend.NotBuildable(endpoint.Host);
            if (PlacementConstraint != null && !endpoint.IsCluster)
                throw new SandboxException("ConstraintWithoutCluster", SandboxErrorKind.InvalidArgument,
                    "-PlacementConstraint chooses among the nodes of a cluster; give -Cluster (or set $env:SANDBOX_CLUSTER) with it.", PlacementConstraint[0]);
            spec.PlacementConstraints = PlacementConstraint?.Select(c => c.Trim()).ToList() ?? new List<string>();
            if (Build || BaseImage != null) TakeBuildFolder(spec);
            if (spec.CodePath != null) WriteVerbose($"{spec.WorkingDirectory}: {WorkspaceInWords(spec)}.");

            spec.Limits = LimitsFrom(Limits, Memory, Cpus, PidsLimit);

            if (Port != null) spec.Ports = PortSpec.ParseAll(Port.Select(p => p is IDictionary d ? Plain(d) : Unwrap(p)));
            spec.Environment = StringMap(Environment);
            return spec;
        }

        bool PathAccessGiven => MyInvocation.BoundParameters.ContainsKey(nameof(PathAccess));

        /// <summary>-CopyPath is -PathAccess Copy; both may be given only when they agree.</summary>
        SandboxPathAccess RequestedPathAccess()
        {
            if (CopyPath && PathAccessGiven && PathAccess != SandboxPathAccess.Copy)
                throw new SandboxException("ConflictingPathAccess", SandboxErrorKind.InvalidArgument,
                    $"-CopyPath copies the folder in, and -PathAccess {PathAccess} mounts it; use one of them.", Path);
            return CopyPath ? SandboxPathAccess.Copy : PathAccess;
        }

        static string WorkspaceInWords(SandboxSpec spec) => spec.WorkspaceMode switch
        {
            WorkspaceModes.MountedReadWrite => $"'{spec.CodePath}' is mounted read-write: what the sandbox writes there (as root, unless -User) lands in the folder; -PathAccess ReadOnly or -CopyPath leave it untouched",
            WorkspaceModes.MountedReadOnly => $"'{spec.CodePath}' is mounted read-only",
            WorkspaceModes.Copied => $"'{spec.CodePath}' is copied in; the folder stays untouched",
            _ => spec.WorkspaceMode,
        };

        string? ResolveCodePath(string? projectId, DockerEndpoint endpoint)
        {
            string folder;
            if (Path != null)
            {
                folder = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
                if (!Directory.Exists(folder))
                    throw new SandboxException("PathNotFound", SandboxErrorKind.ObjectNotFound,
                        File.Exists(folder) ? $"'{Path}' is a file; -Path takes the folder with the code." : $"Folder '{Path}' does not exist.", Path);
            }
            else if (projectId != null)
            {
                if (projectId.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0 || projectId == "." || projectId == "..")
                    throw new SandboxException("InvalidProjectId", SandboxErrorKind.InvalidArgument,
                        $"Project id '{projectId}' cannot name a folder under ./projects. Use letters, digits, '-', '_' and '.'.", projectId);
                folder = System.IO.Path.Combine(SessionState.Path.CurrentFileSystemLocation.ProviderPath, "projects", projectId);
                var existed = Directory.Exists(folder);
                try { Directory.CreateDirectory(folder); }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    throw new SandboxException("InvalidProjectId", SandboxErrorKind.InvalidArgument,
                        $"The folder for project '{(projectId.Length > 40 ? projectId.Substring(0, 40) + "..." : projectId)}' cannot be made: {e.Message} Use a shorter project id, or -Path.", projectId);
                }
                WriteVerbose($"-ProjectId without -Path: the code folder of project '{projectId}' is '{folder}' (./projects/{projectId} in the current folder, " +
                    (existed ? "which was already there)." : "made just now).") + " Give -Path to use another folder.");
            }
            else return null;

            folder = System.IO.Path.GetFullPath(folder).TrimEnd(System.IO.Path.DirectorySeparatorChar);
            if (folder.Length == 0) folder = "/";
            if (endpoint.Kind == EndpointKind.Unix && IsEngineSocketInside(folder, endpoint.Uri.AbsolutePath))
                throw new SandboxException("EngineSocketRefused", SandboxErrorKind.SecurityError,
                    $"'{folder}' contains the Docker engine socket; mounting it would give the sandbox control of the engine. Choose a folder with only the code.", Path ?? folder);
            return folder;
        }

        static bool IsEngineSocketInside(string folder, string socketPath)
        {
            var real = socketPath;
            try { real = new FileInfo(socketPath).FullName; } catch (Exception) { }
            return PathSafety.IsInside(folder, real) || PathSafety.IsInside(folder, socketPath) || File.Exists(System.IO.Path.Combine(folder, "docker.sock"));
        }

        /// <summary>Per-layer pull progress folded into one bar, as docker pull shows it.</summary>
        sealed class PullProgressView
        {
            readonly Cmdlet _cmdlet;
            readonly Dictionary<string, (long Current, long Total)> _layers = new Dictionary<string, (long, long)>();
            bool _shown;
            string _image = "";

            public PullProgressView(Cmdlet cmdlet) => _cmdlet = cmdlet;

            public void Show(PullProgress p)
            {
                _image = p.Image;
                if (p.Layer != null && p.Total > 0) _layers[p.Layer] = (p.Current, p.Total);
                else if (p.Layer != null && p.Status.StartsWith("Pull complete", StringComparison.Ordinal) && _layers.TryGetValue(p.Layer, out var l)) _layers[p.Layer] = (l.Total, l.Total);
                var total = _layers.Values.Sum(v => v.Total);
                var done = _layers.Values.Sum(v => v.Current);
                var record = new ProgressRecord(1, $"Pulling image {p.Image}", string.IsNullOrEmpty(p.Layer) ? p.Status : $"{p.Layer}: {p.Status}")
                {
                    PercentComplete = total > 0 ? (int)Math.Min(100, done * 100 / total) : -1,
                };
                _cmdlet.WriteProgress(record);
                _shown = true;
            }

            public void Complete()
            {
                if (_shown) _cmdlet.WriteProgress(new ProgressRecord(1, $"Pulling image {_image}", "Done") { RecordType = ProgressRecordType.Completed });
            }
        }
    }
}
