using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;

namespace Sandbox.Lifecycle
{
    /// <summary>
    /// Snapshots: images committed from a sandbox, tagged sandbox-snapshot/&lt;name&gt;:latest and labelled
    /// io.sandbox.snapshot=true. Only images with that label are listed or removed.
    /// </summary>
    public static class SandboxSnapshots
    {
        public const string Repository = "sandbox-snapshot";
        static readonly Regex NamePattern = new Regex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\z");

        public static string ImageFor(string name) => $"{Repository}/{name}:latest";

        public static void ValidateName(string name)
        {
            if (name.Length > 100 || !NamePattern.IsMatch(name))
                throw new SandboxException("InvalidSnapshotName", SandboxErrorKind.InvalidArgument,
                    $"'{name}' cannot name a snapshot: it becomes the image {Repository}/<name>, so use lower-case letters and digits, " +
                    "joined by '.', '_' or '-' (at most 100 characters), such as 'py-deps' or 'build.2'.", name);
        }

        /// <summary>
        /// Commits the sandbox's file system (paused meanwhile, as docker commit does) as a snapshot. The container's labels
        /// of this module are blanked on the image: the engine merges them into the commit, and a sandbox started from the
        /// image would inherit them (see <see cref="SandboxLabels.ShadowInherited"/>).
        /// </summary>
        /// <returns>The snapshot, and the paths of the sandbox's mounts (its /workspace when mounted), which a commit leaves out.</returns>
        public static async Task<(SandboxSnapshot Snapshot, string[] LeftOut)> SaveAsync(DockerEngine engine, Sandbox sandbox, string name, bool replace, CancellationToken cancel)
        {
            ValidateName(name);
            if (sandbox.Cluster != null)
                throw new SandboxException("SnapshotNotOnCluster", SandboxErrorKind.InvalidOperation,
                    $"Sandbox '{sandbox.Name}' runs on a cluster; a snapshot of it would exist on its node '{sandbox.Node}' only, where the cluster would not place new sandboxes.", sandbox.Name,
                    "Save a sandbox of one engine (New-Sandbox -DockerHost), or commit the task's container on its node and push the image to a registry every node can pull from, then start sandboxes with -Image.");
            var image = ImageFor(name);
            var client = engine.Client;
            try
            {
                var existing = await InspectAsync(client, image, cancel).ConfigureAwait(false);
                if (existing != null)
                {
                    if (!IsSnapshot(existing.Config?.Labels))
                        throw new SandboxException("SnapshotNameTaken", SandboxErrorKind.ResourceExists,
                            $"Image '{image}' on {engine.Endpoint.Host} was not made by Save-Sandbox (it lacks the label {SandboxLabels.Snapshot}=true), so it is left alone.", name,
                            "Choose another snapshot name, or remove that image yourself with docker rmi if you no longer need it.");
                    if (!replace)
                        throw new SandboxException("SnapshotExists", SandboxErrorKind.ResourceExists,
                            $"Snapshot '{name}' already exists on {engine.Endpoint.Host} (saved {existing.Created?.ToUniversalTime():u}).", name,
                            "Give -Force to replace it, or choose another -SnapshotName.");
                }

                var container = await client.Containers.InspectContainerAsync(sandbox.Id, cancel).ConfigureAwait(false);
                var labels = new Dictionary<string, string>();
                foreach (var key in (container.Config?.Labels ?? new Dictionary<string, string>()).Keys.Where(k => k.StartsWith(SandboxLabels.Prefix, StringComparison.Ordinal)))
                    labels[key] = "";
                labels[SandboxLabels.Snapshot] = "true";
                labels[SandboxLabels.SnapshotOf] = sandbox.Name;
                labels[SandboxLabels.SnapshotOfId] = sandbox.Id;
                labels[SandboxLabels.SnapshotCreated] = SandboxLabels.ToEpochSeconds(DateTime.UtcNow).ToString(CultureInfo.InvariantCulture);
                labels[SandboxLabels.SnapshotWorkspace] = sandbox.WorkspaceMode;
                labels[SandboxLabels.SnapshotOwner] = SandboxLabels.CurrentOwner;
                labels[SandboxLabels.WorkDir] = sandbox.WorkingDirectory;

                // The container's Entrypoint and Cmd are the deadline guard with the saved sandbox's deadline: the image's
                // own are put back, so that docker run of a snapshot behaves as its base image (New-Sandbox sets its own guard).
                var baseImage = container.Image == null ? null : await InspectAsync(client, container.Image, cancel).ConfigureAwait(false);
                var committed = await client.Images.CommitContainerChangesAsync(new CommitContainerChangesParameters
                {
                    // Empty rather than null: the engine copies the container's Entrypoint over a null one.
                    Entrypoint = baseImage?.Config?.Entrypoint ?? new List<string>(),
                    Cmd = baseImage?.Config?.Cmd!,
                    ContainerID = sandbox.Id,
                    RepositoryName = Repository + "/" + name,
                    Tag = "latest",
                    Pause = true,
                    Comment = $"Save-Sandbox of '{sandbox.Name}'",
                    Labels = labels,
                }, cancel).ConfigureAwait(false);
                if (existing != null && existing.ID != committed.ID)
                {
                    // The replaced snapshot, unless a sandbox still runs from it (the engine refuses then: it stays, untagged).
                    try { await client.Images.DeleteImageAsync(existing.ID, new ImageDeleteParameters(), CancellationToken.None).ConfigureAwait(false); }
                    catch (DockerApiException) { }
                }
                var inspect = await client.Images.InspectImageAsync(committed.ID, cancel).ConfigureAwait(false);
                var leftOut = (container.Mounts ?? new List<MountPoint>())
                    .Where(m => m.Destination != DeadlineGuard.Folder).Select(m => m.Destination).OrderBy(d => d, StringComparer.Ordinal).ToArray();
                return (FromInspect(inspect, name, engine.Endpoint.Host), leftOut);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                throw new SandboxException("SandboxNotFound", SandboxErrorKind.ObjectNotFound, $"Sandbox '{sandbox.Name}' is gone; nothing was saved.", sandbox.Name, null, e);
            }
            catch (DockerApiException e)
            {
                throw new SandboxException("SnapshotFailed", SandboxErrorKind.InvalidOperation, $"The engine could not save sandbox '{sandbox.Name}': {EngineErrors.Message(e)}", sandbox.Name, null, e);
            }
            catch (Exception e) when (!(e is SandboxException) && !(e is OperationCanceledException)) { throw DockerEngine.Translate(e, engine.Endpoint); }
        }

        /// <summary>This module's snapshots on the engine, oldest first.</summary>
        public static async Task<IReadOnlyList<SandboxSnapshot>> ListAsync(DockerEngine engine, CancellationToken cancel)
        {
            try
            {
                var images = await engine.Client.Images.ListImagesAsync(new ImagesListParameters
                {
                    Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{SandboxLabels.Snapshot}=true"] = true } },
                }, cancel).ConfigureAwait(false);
                return images
                    .SelectMany(i => (i.RepoTags ?? new List<string>()).Select(tag => (Image: i, Name: NameOf(tag))).Where(t => t.Name != null))
                    .Select(t => Build(t.Name!, t.Image.ID, t.Image.Created, t.Image.Size, t.Image.Labels, engine.Endpoint.Host))
                    .OrderBy(s => s.CreatedAt).ThenBy(s => s.Name, StringComparer.Ordinal).ToList();
            }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, engine.Endpoint); }
        }

        /// <summary>The snapshot of that name; null when there is no such image. An image of that name the module did not make is refused.</summary>
        public static async Task<SandboxSnapshot?> FindAsync(DockerEngine engine, string name, CancellationToken cancel)
        {
            ValidateName(name);
            var image = ImageFor(name);
            ImageInspectResponse? inspect;
            try { inspect = await InspectAsync(engine.Client, image, cancel).ConfigureAwait(false); }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, engine.Endpoint); }
            if (inspect == null) return null;
            if (!IsSnapshot(inspect.Config?.Labels))
                throw NotASnapshot(image, name, engine.Endpoint.Host);
            return FromInspect(inspect, name, engine.Endpoint.Host);
        }

        /// <summary>The image New-Sandbox -Snapshot starts from; a clear error when the snapshot is not on this engine.</summary>
        public static async Task<SandboxSnapshot> RequireAsync(DockerEngine engine, string name, CancellationToken cancel) =>
            await FindAsync(engine, name, cancel).ConfigureAwait(false)
            ?? throw new SandboxException("SnapshotNotFound", SandboxErrorKind.ObjectNotFound,
                $"There is no snapshot '{name}' on {engine.Endpoint.Host}. A snapshot lives on the engine that saved it.", name,
                "List the snapshots of an engine with Get-SandboxSnapshot -DockerHost <engine>, or save one with Save-Sandbox.");

        /// <summary>
        /// Removes the snapshot's tag (and so its image, unless the image has other tags). Refuses an image the module did not
        /// make, and one a sandbox (or any container) on the engine still runs from.
        /// </summary>
        public static async Task RemoveAsync(DockerEngine engine, SandboxSnapshot snapshot, CancellationToken cancel)
        {
            var client = engine.Client;
            try
            {
                var inspect = await InspectAsync(client, snapshot.Image, cancel).ConfigureAwait(false)
                    ?? throw new SandboxException("SnapshotNotFound", SandboxErrorKind.ObjectNotFound,
                        $"Snapshot '{snapshot.Name}' is no longer on {engine.Endpoint.Host}.", snapshot.Name);
                if (!IsSnapshot(inspect.Config?.Labels)) throw NotASnapshot(snapshot.Image, snapshot.Name, engine.Endpoint.Host);
                var users = await client.Containers.ListContainersAsync(new ContainersListParameters
                {
                    All = true,
                    Filters = new Dictionary<string, IDictionary<string, bool>> { ["ancestor"] = new Dictionary<string, bool> { [inspect.ID] = true } },
                }, cancel).ConfigureAwait(false);
                var direct = users.Where(c => c.ImageID == inspect.ID).ToList();
                if (direct.Count > 0 && (inspect.RepoTags?.Count ?? 0) <= 1)
                    throw new SandboxException("SnapshotInUse", SandboxErrorKind.InvalidOperation,
                        $"Snapshot '{snapshot.Name}' is in use by {Describe(direct)} on {engine.Endpoint.Host}; it was not removed.", snapshot.Name,
                        "Stop the sandboxes started from it (Stop-Sandbox), then remove the snapshot.");
                await client.Images.DeleteImageAsync(snapshot.Image, new ImageDeleteParameters(), cancel).ConfigureAwait(false);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
            {
                throw new SandboxException("SnapshotInUse", SandboxErrorKind.InvalidOperation,
                    $"The engine would not remove snapshot '{snapshot.Name}': {EngineErrors.Message(e)}", snapshot.Name,
                    "Stop the sandboxes started from it (Stop-Sandbox), then remove the snapshot.", e);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                throw new SandboxException("SnapshotNotFound", SandboxErrorKind.ObjectNotFound, $"Snapshot '{snapshot.Name}' is no longer on {engine.Endpoint.Host}.", snapshot.Name, null, e);
            }
            catch (Exception e) when (!(e is SandboxException) && !(e is OperationCanceledException)) { throw DockerEngine.Translate(e, engine.Endpoint); }
        }

        static string Describe(IList<ContainerListResponse> containers)
        {
            var names = containers.Select(c => (c.Names?.FirstOrDefault() ?? c.ID.Substring(0, 12)).TrimStart('/')).Take(5).ToList();
            return (containers.Count == 1 ? "container " : $"{containers.Count} containers: ") + string.Join(", ", names.Select(n => $"'{n}'")) + (containers.Count > 5 ? ", ..." : "");
        }

        static SandboxException NotASnapshot(string image, string name, string host) =>
            new SandboxException("NotASnapshot", SandboxErrorKind.PermissionDenied,
                $"Image '{image}' on {host} was not made by Save-Sandbox (it lacks the label {SandboxLabels.Snapshot}=true); the module neither starts sandboxes from it as a snapshot nor removes it.", name,
                "Remove it yourself with docker rmi if you no longer need it, or start from it with New-Sandbox -Image.");

        internal static bool IsSnapshot(IDictionary<string, string>? labels) =>
            labels != null && labels.TryGetValue(SandboxLabels.Snapshot, out var value) && value == "true";

        /// <summary>The snapshot name in a tag of this module's repository (sandbox-snapshot/&lt;name&gt;:latest); null for any other tag.</summary>
        internal static string? NameOf(string tag)
        {
            var prefix = Repository + "/";
            const string suffix = ":latest";
            if (!tag.StartsWith(prefix, StringComparison.Ordinal) || !tag.EndsWith(suffix, StringComparison.Ordinal)) return null;
            var name = tag.Substring(prefix.Length, tag.Length - prefix.Length - suffix.Length);
            return NamePattern.IsMatch(name) ? name : null;
        }

        static SandboxSnapshot FromInspect(ImageInspectResponse inspect, string name, string host) =>
            Build(name, inspect.ID, inspect.Created ?? DateTime.MinValue, inspect.Size, inspect.Config?.Labels, host);

        internal static SandboxSnapshot Build(string name, string imageId, DateTime created, long size, IDictionary<string, string>? rawLabels, string host)
        {
            var labels = SandboxLabels.Effective(new Dictionary<string, string>(rawLabels ?? new Dictionary<string, string>()));
            labels.TryGetValue(SandboxLabels.SnapshotOf, out var of);
            labels.TryGetValue(SandboxLabels.SnapshotOfId, out var ofId);
            labels.TryGetValue(SandboxLabels.SnapshotWorkspace, out var workspace);
            var savedAt = SandboxLabels.ReadLong(labels, SandboxLabels.SnapshotCreated);
            return new SandboxSnapshot
            {
                Name = name,
                Image = ImageFor(name),
                ImageId = imageId,
                CreatedAt = savedAt is long epoch && epoch > 0 ? UnixTime.Epoch.AddSeconds(epoch) : created.ToUniversalTime(),
                SourceSandbox = of ?? "",
                SourceSandboxId = ofId ?? "",
                WorkspaceMode = workspace ?? WorkspaceModes.Unknown,
                Size = size,
                DockerHost = host,
                Labels = labels,
            };
        }

        static async Task<ImageInspectResponse?> InspectAsync(DockerClient client, string image, CancellationToken cancel)
        {
            try { return await client.Images.InspectImageAsync(image, cancel).ConfigureAwait(false); }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { return null; }
        }
    }
}
