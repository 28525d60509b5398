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
        const string NoDeadlineSeconds = "2147483647";
        static readonly Regex NamePattern = new Regex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$");

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
            await EnsureImageAsync(spec.Image, pullProgress, cancel).ConfigureAwait(false);

            var created = DateTime.UtcNow;
            var parameters = BuildCreateParameters(spec, name, created);
            string id;
            try
            {
                id = (await Client.Containers.CreateContainerAsync(parameters, cancel).ConfigureAwait(false)).ID;
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
                    await new ArchiveTransfer(Engine).UploadAsync(id, new[] { spec.CodePath }, spec.WorkingDirectory, contentsOnly: true, copyProgress, cancel).ConfigureAwait(false);
                cancel.ThrowIfCancellationRequested();
                var inspect = await Client.Containers.InspectContainerAsync(id, CancellationToken.None).ConfigureAwait(false);
                var sandbox = Attach(SandboxMapper.FromInspect(inspect, Host));
                if (Engine.Endpoint.Kind == EndpointKind.Ssh && sandbox.Ports.Length > 0)
                    Endpoints.Ssh.PortTunnels.Open(Endpoints.Ssh.SshSession.For(Engine.Endpoint), sandbox);
                return sandbox;
            }
            catch (Exception e)
            {
                await RemoveQuietlyAsync(id).ConfigureAwait(false);
                if (e is DockerApiException api) throw CreateFailure(api, spec, name);
                throw DockerEngine.Translate(e, Engine.Endpoint);
            }
        }

        CreateContainerParameters BuildCreateParameters(SandboxSpec spec, string name, DateTime created)
        {
            var host = new HostConfig
            {
                AutoRemove = true,
                Init = true,
                Privileged = false,
                CapDrop = new List<string> { "ALL" },
                CapAdd = DefaultCapabilities.ToList(),
                SecurityOpt = new List<string> { "no-new-privileges:true" },
                NetworkMode = spec.NetworkMode,
            };
            spec.Limits.ApplyTo(host);
            if (spec.CodePath != null && !spec.CopyCode)
                host.Binds = new List<string> { $"{spec.CodePath}:{spec.WorkingDirectory}:rw" };

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
                Entrypoint = new List<string> { "sleep" },
                Cmd = new List<string> { spec.TimeoutSec > 0 ? spec.TimeoutSec.ToString() : NoDeadlineSeconds },
                WorkingDir = spec.WorkingDirectory,
                Env = spec.Environment.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
                Labels = SandboxLabels.ForNewSandbox(spec, created),
                ExposedPorts = exposed,
                StopTimeout = TimeSpan.FromSeconds(1),
                HostConfig = host,
            };
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
            if (Regex.IsMatch(message, "executable file not found|no such file or directory", RegexOptions.IgnoreCase))
                return new SandboxException("ImageNotSupported", SandboxErrorKind.InvalidOperation,
                    $"Image '{spec.Image}' cannot host a sandbox: {message}", spec.Image, "The image needs a 'sleep' program on its PATH.", e);
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
                await Client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = repository, Tag = tag }, null, reporter, cancel).ConfigureAwait(false);
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

        static readonly Regex ReferencePattern = new Regex(@"^(?:(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+)(?::\d+)?/|[a-zA-Z0-9-]+:\d+/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$");

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
                return list.Select(c => Attach(SandboxMapper.FromList(c, Host))).OrderBy(s => s.CreatedAt).ToList();
            }
            catch (Exception e) { throw DockerEngine.Translate(e, Engine.Endpoint); }
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

        /// <summary>Kills and removes a sandbox; false when it was already gone.</summary>
        public async Task<bool> RemoveAsync(string id, CancellationToken cancel)
        {
            Endpoints.Ssh.PortTunnels.Close(id);
            try
            {
                await Client.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, cancel).ConfigureAwait(false);
                return true;
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { return false; }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict) { return true; }
            catch (Exception e) when (!(e is DockerApiException)) { throw DockerEngine.Translate(e, Engine.Endpoint); }
        }

        async Task RemoveQuietlyAsync(string id)
        {
            try { await RemoveAsync(id, CancellationToken.None).ConfigureAwait(false); }
            catch (Exception) { /* the create already failed; that error is the one the user needs */ }
        }
    }
}
