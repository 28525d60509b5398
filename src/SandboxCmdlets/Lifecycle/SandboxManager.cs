using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Files;

namespace Sandbox.Lifecycle
{
    public sealed class PullProgress
    {
        public string Image { get; set; } = "";
        public string? Layer { get; set; }
        public string Status { get; set; } = "";
        public long Current { get; set; }
        public long Total { get; set; }
    }

    /// <summary>Creates, finds and removes sandboxes on one engine. The engine's labels are the only state.</summary>
    public sealed class SandboxManager
    {
        /// <summary>Capabilities a typical image needs to install packages and run services as root; everything else is dropped.</summary>
        public static readonly string[] DefaultCapabilities = { "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "NET_BIND_SERVICE" };
        static readonly Regex NamePattern = new Regex(@"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}\z");

        public DockerEngine Engine { get; }
        DockerClient Client => Engine.Client;
        string Host => Engine.Endpoint.Host;

        public SandboxManager(DockerEngine engine) => Engine = engine;

        public static async Task<SandboxManager> ConnectAsync(DockerEndpoint endpoint, CancellationToken cancel) =>
            new SandboxManager(await DockerEngine.ConnectAsync(endpoint, cancel).ConfigureAwait(false));

        /// <summary>A sandbox object leads back to the endpoint (and credentials) it was reached with.</summary>
        Sandbox Attach(Sandbox sandbox)
        {
            sandbox.Endpoint = Engine.Endpoint;
            return sandbox;
        }

        public static void ValidateName(string name)
        {
            if (!NamePattern.IsMatch(name))
                throw new SandboxException("InvalidSandboxName", SandboxErrorKind.InvalidArgument,
                    $"'{name}' is not a valid sandbox name. Use letters, digits, '_', '.' and '-', starting with a letter or digit (at most 128).", name);
        }

        public static string NewName(string? projectId)
        {
            var suffix = Guid.NewGuid().ToString("N").Substring(0, 8);
            if (string.IsNullOrEmpty(projectId)) return "sandbox-" + suffix;
            var safe = Regex.Replace(projectId!, "[^a-zA-Z0-9_.-]", "-").Trim('-', '.', '_');
            if (safe.Length > 40) safe = safe.Substring(0, 40);
            return safe.Length == 0 ? "sandbox-" + suffix : $"sandbox-{safe}-{suffix.Substring(0, 4)}";
        }

        public async Task<Sandbox> CreateAsync(SandboxSpec spec, IProgress<PullProgress>? pullProgress, IProgress<TransferProgress>? copyProgress, CancellationToken cancel)
        {
            var name = spec.Name ?? NewName(spec.ProjectId);
            ValidateName(name);
            ValidateImageReference(spec.Image);

            var clockOffset = await EngineClockOffsetAsync(cancel).ConfigureAwait(false);
            var parameters = BuildCreateParameters(spec, name, DateTime.UtcNow, clockOffset);
            string id;
            try
            {
                // Created straight away rather than after asking whether the image is there: that question cost a
                // round trip on every create, for the rare first use of an image, which the engine reports anyway.
                // A missing image, or settings the engine refused (which may be the image reference), take the
                // careful way: the image is checked (pulled, or its reference refused) and the create tried again.
                try { id = (await Client.Containers.CreateContainerAsync(parameters, cancel).ConfigureAwait(false)).ID; }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.BadRequest ||
                    (e.StatusCode == HttpStatusCode.NotFound && EngineMessage(e).IndexOf("no such image", StringComparison.OrdinalIgnoreCase) >= 0))
                {
                    await EnsureImageAsync(spec.Image, pullProgress, cancel).ConfigureAwait(false);
                    parameters = BuildCreateParameters(spec, name, DateTime.UtcNow, clockOffset);     // the deadline counts from after the pull
                    id = (await Client.Containers.CreateContainerAsync(parameters, cancel).ConfigureAwait(false)).ID;
                }
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
            {
                throw new SandboxException("SandboxNameConflict", SandboxErrorKind.ResourceExists,
                    $"A container named '{name}' already exists on {Host}. Choose another -Name or stop it with Stop-Sandbox -Name {name}.", name, null, e);
            }
            catch (DockerApiException e)
            {
                throw CreateFailure(e, spec, name);
            }
            catch (Exception e) { throw DockerEngine.Translate(e, Engine.Endpoint); }

            try
            {
                await Client.Containers.StartContainerAsync(id, new ContainerStartParameters(), CancellationToken.None).ConfigureAwait(false);
                if (spec.CopyCode && spec.CodePath != null)
                {
                    // Copied files would belong to root; the sandbox's own user must be able to change its code.
                    var owner = spec.User != null ? await NumericUserAsync(id).ConfigureAwait(false) : null;
                    await new ArchiveTransfer(Engine).UploadAsync(id, new[] { spec.CodePath }, spec.WorkingDirectory, contentsOnly: true, copyProgress, cancel, owner).ConfigureAwait(false);
                }
                cancel.ThrowIfCancellationRequested();
                var inspect = await Client.Containers.InspectContainerAsync(id, CancellationToken.None).ConfigureAwait(false);
                var sandbox = Attach(SandboxMapper.FromInspect(inspect, Host));
                if (Engine.Endpoint.Kind == EndpointKind.Ssh && sandbox.Ports.Length > 0)
                    Endpoints.Ssh.PortTunnels.Open(Endpoints.Ssh.SshSession.For(Engine.Endpoint), sandbox);
                return sandbox;
            }
            catch (Exception e)
            {
                await RemoveQuietlyAsync(id, parameters.Labels[SandboxLabels.DeadlineVolume]).ConfigureAwait(false);
                if (e is DockerApiException api) throw CreateFailure(api, spec, name);
                throw DockerEngine.Translate(e, Engine.Endpoint);
            }
        }

        /// <summary>
        /// PID 1 exits this long after creation + timeout: the engine stamps a sandbox's creation a moment after we ask,
        /// and a sandbox must never end before its deadline.
        /// </summary>
        static readonly TimeSpan GuardGrace = TimeSpan.FromMilliseconds(250);

        CreateContainerParameters BuildCreateParameters(SandboxSpec spec, string name, DateTime created, TimeSpan clockOffset)
        {
            var host = new HostConfig
            {
                AutoRemove = true,
                Init = false,     // the deadline guard is PID 1 itself (see DeadlineGuard)
                Privileged = false,
                CapDrop = new List<string> { "ALL" },
                CapAdd = DefaultCapabilities.ToList(),
                SecurityOpt = new List<string> { "no-new-privileges:true" },
                NetworkMode = spec.NetworkMode,
            };
            spec.Limits.ApplyTo(host);
            // Read-only inside, so that code in the sandbox cannot move its own deadline; named, because the engine
            // refuses read-only anonymous volumes; labelled, so that a sweep can prune it when the sandbox ended alone.
            var deadlineVolume = $"{name}-deadline-{Guid.NewGuid().ToString("N").Substring(0, 8)}";
            host.Mounts = new List<Mount>
            {
                new Mount
                {
                    Type = "volume", Source = deadlineVolume, Target = DeadlineGuard.Folder, ReadOnly = true,
                    VolumeOptions = new VolumeOptions { Labels = new Dictionary<string, string> { [SandboxLabels.DeadlineVolume] = "true" } },
                },
            };

            var bindsCode = spec.CodePath != null && !spec.CopyCode;
            if (bindsCode)
                host.Binds = new List<string> { $"{spec.CodePath}:{spec.WorkingDirectory}:rw" };
            if (spec.ReadOnlyRoot)
            {
                host.ReadonlyRootfs = true;
                host.Tmpfs = new Dictionary<string, string> { ["/tmp"] = "rw,exec,nosuid,nodev,mode=1777" };
                if (!bindsCode)
                    host.Mounts.Add(new Mount { Type = "volume", Target = spec.WorkingDirectory });
            }

            var exposed = new Dictionary<string, EmptyStruct>();
            if (spec.Ports.Count > 0)
            {
                host.PortBindings = new Dictionary<string, IList<PortBinding>>();
                foreach (var port in spec.Ports)
                {
                    exposed[port.Key] = default;
                    if (!host.PortBindings.TryGetValue(port.Key, out var bindings))
                        host.PortBindings[port.Key] = bindings = new List<PortBinding>();
                    bindings.Add(new PortBinding { HostIP = port.HostIp, HostPort = port.HostPort > 0 ? port.HostPort.ToString() : "" });
                }
            }

            return new CreateContainerParameters
            {
                Name = name,
                Image = spec.Image,
                Entrypoint = DeadlineGuard.Entrypoint,
                OpenStdin = true,     // where there is no pseudo-terminal, the deadline guard sleeps reading it
                Cmd = DeadlineGuard.Command(spec.TimeoutSec > 0 ? created + clockOffset + TimeSpan.FromSeconds(spec.TimeoutSec) + GuardGrace : (DateTime?)null),
                WorkingDir = spec.WorkingDirectory,
                User = spec.User ?? "",
                Env = spec.Environment.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
                Labels = WithDeadlineVolume(SandboxLabels.ForNewSandbox(spec, created), deadlineVolume),
                ExposedPorts = exposed,
                StopTimeout = TimeSpan.FromSeconds(1),
                HostConfig = host,
            };
        }

        /// <summary>The uid and gid the sandbox's processes run as, asked of the sandbox itself (names resolve there).</summary>
        async Task<(int Uid, int Gid)?> NumericUserAsync(string id)
        {
            var exec = await Client.Exec.CreateContainerExecAsync(id, new ContainerExecCreateParameters
            {
                Cmd = new List<string> { "/bin/sh", "-c", "echo $(id -u) $(id -g)" },
                AttachStdout = true,
                AttachStderr = true,
            }, CancellationToken.None).ConfigureAwait(false);
            using var stream = await Client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), CancellationToken.None).ConfigureAwait(false);
            var (stdout, _) = await stream.ReadOutputToEndAsync(CancellationToken.None).ConfigureAwait(false);
            var parts = stdout.Trim().Split(' ');
            return parts.Length == 2 && int.TryParse(parts[0], out var uid) && int.TryParse(parts[1], out var gid) ? (uid, gid) : ((int, int)?)null;
        }

        static Dictionary<string, string> WithDeadlineVolume(Dictionary<string, string> labels, string volume)
        {
            labels[SandboxLabels.DeadlineVolume] = volume;
            return labels;
        }

        SandboxException CreateFailure(DockerApiException e, SandboxSpec spec, string name)
        {
            var message = EngineMessage(e);
            if (Regex.IsMatch(message, "port is already allocated|address already in use", RegexOptions.IgnoreCase))
                return new SandboxException("PortAlreadyAllocated", SandboxErrorKind.ResourceUnavailable,
                    $"A host port asked for by '{name}' is already in use: {message}", string.Join(", ", spec.Ports.Select(p => p.ToString())),
                    "Pick another host port, or 0 to let the engine choose a free one.", e);
            if (Regex.IsMatch(message, "storage-opt|storage_opt|quota", RegexOptions.IgnoreCase))
                return new SandboxException("InvalidLimit", SandboxErrorKind.InvalidArgument,
                    $"The engine refused storage_opt for '{name}': {message}", "storage_opt", "storage_opt needs the overlay2 driver on XFS mounted with pquota; remove it elsewhere.", e);
            if (Regex.IsMatch(message, "network .* not found", RegexOptions.IgnoreCase))
                return new SandboxException("NetworkNotFound", SandboxErrorKind.ObjectNotFound,
                    $"Network '{spec.NetworkMode}' does not exist on {Host}: {message}", spec.NetworkMode, "Use bridge, none, host or a network from 'docker network ls'.", e);
            if (Regex.IsMatch(message, "unable to find (user|group)", RegexOptions.IgnoreCase))
                return new SandboxException("UserNotFound", SandboxErrorKind.ObjectNotFound,
                    $"Image '{spec.Image}' has no user '{spec.User}': {message}", spec.User, "Use a uid (such as 1000) or a user that exists in the image.", e);
            if (Regex.IsMatch(message, "executable file not found|no such file or directory", RegexOptions.IgnoreCase))
                return new SandboxException("ImageNotSupported", SandboxErrorKind.InvalidOperation,
                    $"Image '{spec.Image}' cannot host a sandbox: {message}", spec.Image, "The image needs /bin/sh, sleep and date (any Linux distribution image or busybox has them).", e);
            if ((int)e.StatusCode == 400)
                return new SandboxException("InvalidSandboxSettings", SandboxErrorKind.InvalidArgument,
                    $"The engine refused the settings for '{name}': {message}", name, null, e);
            return new SandboxException("SandboxCreateFailed", SandboxErrorKind.NotSpecified, $"Could not start sandbox '{name}': {message}", name, null, e);
        }

        internal static string EngineMessage(DockerApiException e)
        {
            var body = e.ResponseBody ?? "";
            var match = Regex.Match(body, "\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
            return match.Success ? Regex.Unescape(match.Groups[1].Value) : (body.Length > 0 ? body.Trim() : e.Message);
        }

        public async Task EnsureImageAsync(string image, IProgress<PullProgress>? progress, CancellationToken cancel)
        {
            ValidateImageReference(image);
            try
            {
                await Client.Images.InspectImageAsync(image, cancel).ConfigureAwait(false);
                return;
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { }
            catch (DockerApiException e)
            {
                throw new SandboxException("InvalidImageReference", SandboxErrorKind.InvalidArgument, $"The engine refused image '{image}': {EngineMessage(e)}", image, null, e);
            }
            catch (Exception e) { throw DockerEngine.Translate(e, Engine.Endpoint); }

            var (repository, tag) = SplitReference(image);
            string? failure = null;
            var reporter = new Progress<JSONMessage>(m =>
            {
                if (m.Error != null) failure = m.Error.Message;
                progress?.Report(new PullProgress { Image = image, Layer = m.ID, Status = m.Status ?? "", Current = m.Progress?.Current ?? 0, Total = m.Progress?.Total ?? 0 });
            });
            try
            {
                await Client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = repository, Tag = tag }, null, reporter, cancel)
                    .WithCancellation(cancel).ConfigureAwait(false);
            }
            catch (DockerApiException e) { failure = EngineMessage(e); }
            catch (OperationCanceledException) { throw; }
            catch (Exception e) { throw DockerEngine.Translate(e, Engine.Endpoint); }

            if (failure == null)
            {
                try { await Client.Images.InspectImageAsync(image, cancel).ConfigureAwait(false); return; }
                catch (DockerApiException e) { failure = EngineMessage(e); }
            }
            throw new SandboxException("ImageNotFound", SandboxErrorKind.ObjectNotFound,
                $"Image '{image}' is not on {Host} and could not be pulled: {failure}", image,
                "Check the name, log in to the registry, or build/import the image on the engine first.");
        }

        static readonly Regex ReferencePattern = new Regex(@"^(?:(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+)(?::\d+)?/|[a-zA-Z0-9-]+:\d+/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})??\z");

        public static void ValidateImageReference(string image)
        {
            if (string.IsNullOrWhiteSpace(image) || !ReferencePattern.IsMatch(image))
                throw new SandboxException("InvalidImageReference", SandboxErrorKind.InvalidArgument,
                    $"'{image}' is not a valid image reference. Use a name such as python:3.12-slim or registry.example.com/team/tool:1.0 (lower case).", image);
        }

        static (string repository, string tag) SplitReference(string image)
        {
            var at = image.IndexOf('@');
            if (at >= 0) return (image.Substring(0, at), image.Substring(at + 1));
            var slash = image.LastIndexOf('/');
            var colon = image.LastIndexOf(':');
            return colon > slash ? (image.Substring(0, colon), image.Substring(colon + 1)) : (image, "latest");
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
                var sandboxes = list.Select(c => Attach(SandboxMapper.FromList(c, Host))).OrderBy(s => s.CreatedAt).ToList();
                await CorrectMovedDeadlinesAsync(sandboxes, cancel).ConfigureAwait(false);
                await MarkPoolMembersAsync(sandboxes, cancel).ConfigureAwait(false);
                return sandboxes;
            }
            catch (Exception e) { throw DockerEngine.Translate(e, Engine.Endpoint); }
        }

        /// <summary>
        /// Sandboxes whose deadline has passed. Unlike a listing, this reads every running sandbox's deadline file, so a
        /// deadline another process shortened counts too.
        /// </summary>
        public async Task<Sandbox[]> ListExpiredAsync(CancellationToken cancel)
        {
            var sandboxes = await ListAsync(cancel).ConfigureAwait(false);
            var running = sandboxes.Where(s => !s.IsExpired && s.State == "running" && s.Labels.ContainsKey(SandboxLabels.DeadlineVolume));
            await Task.WhenAll(running.Select(s => RefreshDeadlineAsync(s, cancel))).ConfigureAwait(false);
            return sandboxes.Where(s => s.IsExpired).ToArray();
        }

        /// <summary>Finds one of this module's sandboxes by full id, id prefix or name; null when none.</summary>
        public async Task<Sandbox?> FindAsync(string idOrName, CancellationToken cancel)
        {
            try
            {
                var inspect = await Client.Containers.InspectContainerAsync(idOrName, cancel).ConfigureAwait(false);
                var labels = inspect.Config?.Labels;
                if (labels == null || !labels.TryGetValue(SandboxLabels.Managed, out var managed) || managed != "true") return null;
                return Attach(SandboxMapper.FromInspect(inspect, Host));
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { return null; }
            catch (Exception e) when (!(e is DockerApiException)) { throw DockerEngine.Translate(e, Engine.Endpoint); }
        }

        /// <summary>
        /// Moves a sandbox's deadline to <paramref name="timeoutSec"/> seconds from now (0: no deadline), in every layer:
        /// the deadline file that PID 1 watches, and the returned object for the cleanup engine. Labels keep the deadline
        /// the sandbox started with.
        /// </summary>
        public async Task<Sandbox> SetTimeoutAsync(Sandbox sandbox, int timeoutSec, CancellationToken cancel)
        {
            // A sandbox just taken from a pool is still getting its first deadline file; this one must land after it.
            await SandboxPools.HandoverFinishedAsync(sandbox.Id).ConfigureAwait(false);
            DateTime? deadline;
            try
            {
                var engineNow = await EngineClockAsync(cancel).ConfigureAwait(false);
                deadline = timeoutSec > 0 ? engineNow.AddSeconds(timeoutSec) : (DateTime?)null;
            }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, Engine.Endpoint); }
            await WriteDeadlineFileAsync(sandbox, deadline, cancel).ConfigureAwait(false);

            sandbox.TimeoutSec = timeoutSec;
            sandbox.ExpiresAt = timeoutSec > 0 ? DateTime.UtcNow.AddSeconds(timeoutSec) : (DateTime?)null;
            DeadlineOverrides.Set(sandbox.Id, sandbox.ExpiresAt);
            return sandbox;
        }

        /// <summary>
        /// Writes the deadline file PID 1 watches (engine clock; null: none), through a never-started helper container that
        /// shares the sandbox's deadline volume read-write.
        /// </summary>
        public async Task WriteDeadlineFileAsync(Sandbox sandbox, DateTime? deadline, CancellationToken cancel)
        {
            try
            {
                // The helper would otherwise re-create the volume of a sandbox that is gone, unlabelled.
                await Client.Containers.InspectContainerAsync(sandbox.Id, cancel).ConfigureAwait(false);
                if (!sandbox.Labels.TryGetValue(SandboxLabels.DeadlineVolume, out var volume))
                    throw new SandboxException("SetTimeoutNotSupported", SandboxErrorKind.InvalidOperation,
                        $"Sandbox '{sandbox.Name}' was made by an older version of the module, without a deadline volume; its deadline cannot move.", sandbox.Name);
                var helper = await Client.Containers.CreateContainerAsync(new CreateContainerParameters
                {
                    Image = sandbox.Image,
                    Entrypoint = new List<string> { "/bin/true" },
                    NetworkDisabled = true,
                    Labels = new Dictionary<string, string> { [SandboxLabels.Prefix + "helper-for"] = sandbox.Id },
                    HostConfig = new HostConfig
                    {
                        Mounts = new List<Mount> { new Mount { Type = "volume", Source = volume, Target = DeadlineGuard.Folder } },
                        NetworkMode = "none",
                        CapDrop = new List<string> { "ALL" },
                    },
                }, cancel).ConfigureAwait(false);
                try
                {
                    using var archive = DeadlineGuard.Archive(deadline);
                    await Client.Containers.ExtractArchiveToContainerAsync(helper.ID, new CopyToContainerParameters { Path = DeadlineGuard.Folder }, archive, cancel).ConfigureAwait(false);
                }
                finally
                {
                    await Client.Containers.RemoveContainerAsync(helper.ID, new ContainerRemoveParameters { Force = true }, CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                throw new SandboxException("SandboxNotFound", SandboxErrorKind.ObjectNotFound, $"Sandbox '{sandbox.Name}' no longer exists.", sandbox.Name, null, e);
            }
            catch (DockerApiException e)
            {
                throw new SandboxException("SetTimeoutFailed", SandboxErrorKind.InvalidOperation,
                    $"Could not move the deadline of sandbox '{sandbox.Name}': {EngineMessage(e)}", sandbox.Name, null, e);
            }
            catch (Exception e) when (!(e is SandboxException) && !(e is OperationCanceledException)) { throw DockerEngine.Translate(e, Engine.Endpoint); }
        }

        /// <summary>Whether the sandbox's deadline was moved (it has a deadline file), and the deadline PID 1 then watches (null: none).</summary>
        public async Task<(bool Moved, DateTime? DeadlineUtc)> ReadDeadlineFileAsync(string id, CancellationToken cancel)
        {
            try
            {
                var archive = await Client.Containers.GetArchiveFromContainerAsync(id, new ContainerPathStatParameters { Path = DeadlineGuard.FilePath }, false, cancel).ConfigureAwait(false);
                using var stream = archive.Stream;
                if (stream == null) return (false, null);
                var reader = new TarReader(stream);
                var entry = await reader.NextAsync(cancel).ConfigureAwait(false);
                if (entry == null || entry.Type != TarEntryType.File || entry.Size > 64) return (false, null);
                using var content = new System.IO.MemoryStream();
                await reader.CopyDataAsync(content, null, cancel).ConfigureAwait(false);
                return DeadlineGuard.TryParse(System.Text.Encoding.ASCII.GetString(content.ToArray()), out var deadline) ? (true, deadline) : (false, null);
            }
            catch (DockerApiException) { return (false, null); }
        }

        static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TimeSpan> ClockOffsets =
            new System.Collections.Concurrent.ConcurrentDictionary<string, TimeSpan>();

        /// <summary>
        /// How far the engine's clock is ahead of ours, asked once per remote engine (PID 1 compares its deadline with
        /// the engine host's clock); a local engine shares our clock.
        /// </summary>
        async Task<TimeSpan> EngineClockOffsetAsync(CancellationToken cancel)
        {
            if (Engine.Endpoint.IsLocal) return TimeSpan.Zero;
            if (ClockOffsets.TryGetValue(Engine.Endpoint.CacheKey, out var known)) return known;
            var before = DateTime.UtcNow;
            var engineNow = await EngineClockAsync(cancel).ConfigureAwait(false);
            var offset = engineNow - (before + TimeSpan.FromTicks((DateTime.UtcNow - before).Ticks / 2));
            return ClockOffsets[Engine.Endpoint.CacheKey] = offset;
        }

        public async Task<DateTime> EngineClockAsync(CancellationToken cancel)
        {
            var info = await Client.System.GetSystemInfoAsync(cancel).ConfigureAwait(false);
            // The engine gives nanoseconds; .NET reads at most seven digits of a fraction.
            var text = System.Text.RegularExpressions.Regex.Replace(info.SystemTime ?? "", @"(\.\d{7})\d+", "$1");
            return DateTime.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var time)
                ? time : DateTime.UtcNow;
        }

        /// <summary>
        /// Labels cannot change, so a sandbox whose label deadline has passed but that still runs was given more time:
        /// its real deadline is in the file its PID 1 watches.
        /// </summary>
        async Task CorrectMovedDeadlinesAsync(IEnumerable<Sandbox> sandboxes, CancellationToken cancel)
        {
            foreach (var sandbox in sandboxes.Where(s => s.IsExpired && s.State == "running"))
                await RefreshDeadlineAsync(sandbox, cancel).ConfigureAwait(false);
        }

        /// <summary>
        /// A pool member waits without a deadline file; taking it writes one. So the file tells another process whether a
        /// member still waits, and holds the deadline of one that was taken (its labels hold the pool's idle deadline).
        /// </summary>
        async Task MarkPoolMembersAsync(IEnumerable<Sandbox> sandboxes, CancellationToken cancel)
        {
            await Task.WhenAll(sandboxes.Where(s => s.Pool != null && s.State == "running").Select(async sandbox =>
            {
                if (SandboxPools.IsWaitingHere(sandbox.Id)) { sandbox.InPool = true; return; }
                if (DeadlineOverrides.Has(sandbox.Id)) return;
                var (taken, deadline) = await ReadDeadlineFileAsync(sandbox.Id, cancel).ConfigureAwait(false);
                if (!taken) sandbox.InPool = true;
                else sandbox.ExpiresAt = deadline;
            })).ConfigureAwait(false);
        }

        /// <summary>
        /// Reads the deadline the sandbox's PID 1 is really watching (another process may have moved it) into the object;
        /// the file is the truth whenever it exists. Returns whether the object changed.
        /// </summary>
        public async Task<bool> RefreshDeadlineAsync(Sandbox sandbox, CancellationToken cancel)
        {
            var (moved, expiresAt) = await ReadDeadlineFileAsync(sandbox.Id, cancel).ConfigureAwait(false);
            if (!moved) return false;
            if (expiresAt == sandbox.ExpiresAt) return false;
            sandbox.ExpiresAt = expiresAt;
            DeadlineOverrides.Set(sandbox.Id, expiresAt);
            return true;
        }

        /// <summary>Kills and removes a sandbox and its deadline volume; false when it was already gone.</summary>
        public Task<bool> RemoveAsync(Sandbox sandbox, CancellationToken cancel) =>
            RemoveAsync(sandbox.Id, sandbox.Labels.TryGetValue(SandboxLabels.DeadlineVolume, out var volume) ? volume : null, cancel);

        public async Task<bool> RemoveAsync(string id, string? deadlineVolume, CancellationToken cancel)
        {
            Endpoints.Ssh.PortTunnels.Close(id);
            DeadlineOverrides.Forget(id);
            SandboxPools.Forget(id);
            bool removed;
            try
            {
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        await Client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, cancel).ConfigureAwait(false);
                        break;
                    }
                    // A busy overlay2 engine sometimes fails to delete a root file system ("directory not empty") and
                    // succeeds when asked again.
                    catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.InternalServerError && attempt < 4 &&
                        EngineMessage(e).IndexOf("failed to remove root filesystem", StringComparison.OrdinalIgnoreCase) >= 0)
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
            catch (Exception e) when (!(e is DockerApiException)) { throw DockerEngine.Translate(e, Engine.Endpoint); }
            if (deadlineVolume != null) await RemoveVolumeAsync(deadlineVolume).ConfigureAwait(false);
            return removed;
        }

        async Task WaitGoneAsync(string id, CancellationToken cancel)
        {
            for (var attempt = 0; attempt < 100; attempt++)
            {
                try { await Client.Containers.InspectContainerAsync(id, cancel).ConfigureAwait(false); }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { return; }
                catch (Exception e) when (!(e is OperationCanceledException)) { return; /* the other removal is the one to report */ }
                await Task.Delay(100, cancel).ConfigureAwait(false);
            }
        }

        async Task RemoveVolumeAsync(string name)
        {
            // An auto-removed container can still hold its volume for a moment.
            for (var attempt = 0; attempt < 10; attempt++)
            {
                try
                {
                    await Client.Volumes.RemoveAsync(name, true, CancellationToken.None).ConfigureAwait(false);
                    return;
                }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { return; }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict) { await Task.Delay(100).ConfigureAwait(false); }
                catch (Exception) { return; /* left for the next sweep's prune */ }
            }
        }

        /// <summary>Deadline volumes whose sandbox ended by itself (auto-removed while no PowerShell ran) are removed here.</summary>
        public async Task PruneDeadlineVolumesAsync(CancellationToken cancel)
        {
            var filters = new Dictionary<string, IDictionary<string, bool>>
            {
                ["label"] = new Dictionary<string, bool> { [$"{SandboxLabels.DeadlineVolume}=true"] = true },
            };
            // Engines from API 1.42 on prune only anonymous volumes unless told 'all'; older ones refuse the filter.
            if (Engine.ApiVersion == null || Engine.ApiVersion >= new System.Version(1, 42))
                filters["all"] = new Dictionary<string, bool> { ["true"] = true };
            try { await Client.Volumes.PruneAsync(new VolumesPruneParameters { Filters = filters }, cancel).ConfigureAwait(false); }
            catch (DockerApiException) { /* nothing to prune, or an engine that prunes differently */ }
        }

        async Task RemoveQuietlyAsync(string id, string? deadlineVolume)
        {
            try { await RemoveAsync(id, deadlineVolume, CancellationToken.None).ConfigureAwait(false); }
            catch (Exception) { /* the create already failed; that error is the one the user needs */ }
        }
    }
}
