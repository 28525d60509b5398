using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipelines;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Files
{

    /// <summary>Moves files in and out of a sandbox as tar streams through the engine's archive API.</summary>
    public sealed class ArchiveTransfer
    {
        const uint GoModeDir = 1u << 31;
        readonly DockerEngine _engine;

        public ArchiveTransfer(DockerEngine engine) => _engine = engine;

        sealed class LocalItem
        {
            public string EntryName = "";
            public FileSystemInfo Info = null!;
            public string? LinkTarget;
        }

        /// <summary>
        /// Copies local files and folders into <paramref name="destination"/> in the sandbox. Into an existing folder each item
        /// keeps its name; a single item to a path that does not exist yet takes that name, as with docker cp: a folder even
        /// when the path ends with '/', a file not (that names a folder, which must exist). <paramref name="contentsOnly"/>
        /// copies the one folder's contents rather than the folder.
        /// </summary>
        public async Task<TransferResult> UploadAsync(string containerId, IReadOnlyList<string> localPaths, string destination, bool contentsOnly,
            IProgress<TransferProgress>? progress, CancellationToken cancel, (int Uid, int Gid)? owner = null)
        {
            var destStat = await StatAsync(containerId, destination, cancel).ConfigureAwait(false);
            string extractDir;
            string? rename = null;
            if (contentsOnly || (destStat != null && IsDirectory(destStat)))
            {
                if (destStat == null || !IsDirectory(destStat))
                    throw new SandboxException("SandboxPathNotFound", SandboxErrorKind.ObjectNotFound, $"Folder '{destination}' does not exist in the sandbox.", destination);
                extractDir = destination;
            }
            else if (localPaths.Count == 1)
            {
                var isFolder = Directory.Exists(localPaths[0]);
                if (destStat != null && isFolder)
                    throw new SandboxException("DestinationNotADirectory", SandboxErrorKind.InvalidArgument, $"'{destination}' in the sandbox is a file; a folder cannot be copied onto it.", destination);
                if (destStat == null && !isFolder && destination.EndsWith("/", StringComparison.Ordinal))
                    throw new SandboxException("SandboxPathNotFound", SandboxErrorKind.ObjectNotFound,
                        $"Folder '{destination}' does not exist in the sandbox, so the file cannot be copied into it.", destination,
                        $"Create the folder first (Invoke-SandboxCommand 'mkdir -p {destination}'), or leave out the trailing '/' to copy the file to that name.");
                extractDir = ContainerPath.Parent(destination);
                rename = ContainerPath.Name(destination);
                var parent = await StatAsync(containerId, extractDir, cancel).ConfigureAwait(false);
                if (parent == null || !IsDirectory(parent))
                    throw new SandboxException("SandboxPathNotFound", SandboxErrorKind.ObjectNotFound,
                        $"Folder '{extractDir}' does not exist in the sandbox, so '{rename}' cannot be made in it.", extractDir,
                        $"Create the folder first (Invoke-SandboxCommand 'mkdir -p {extractDir}'), or copy to a folder that exists.");
            }
            else
            {
                throw new SandboxException("SandboxPathNotFound", SandboxErrorKind.ObjectNotFound,
                    $"Folder '{destination}' does not exist in the sandbox; {localPaths.Count} items can only be copied into an existing folder.", destination,
                    $"Create the folder first (Invoke-SandboxCommand 'mkdir -p {destination}'), or copy the items one at a time.");
            }

            var items = new List<LocalItem>();
            foreach (var path in localPaths)
            {
                if (contentsOnly) Collect(new DirectoryInfo(path), "", items, includeSelf: false);
                else if (Directory.Exists(path)) Collect(new DirectoryInfo(path), rename ?? new DirectoryInfo(path).Name, items, includeSelf: true);
                else items.Add(new LocalItem { EntryName = rename ?? Path.GetFileName(path), Info = new FileInfo(path) });
            }
            var total = items.Where(i => i.Info is FileInfo && i.LinkTarget == null).Sum(i => ((FileInfo)i.Info).Length);
            var result = new TransferResult();
            var state = new TransferProgress { BytesTotal = total };
            var reporter = new ProgressThrottle(progress, state);

            // Segments as large as the tar writer's buffer: the default 4 KiB ones cut every 80 KiB write into twenty.
            var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19, minimumSegmentSize: 1 << 16));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var producer = Task.Run(async () =>
            {
                var output = pipe.Writer.AsStream();
                try
                {
                    var tar = new TarWriter(output) { OwnerUid = owner?.Uid ?? 0, OwnerGid = owner?.Gid ?? 0 };
                    foreach (var item in items)
                    {
                        state.CurrentPath = item.Info.FullName;
                        if (item.LinkTarget != null)
                            await tar.WriteSymlinkAsync(item.EntryName, item.LinkTarget, item.Info.LastWriteTimeUtc, stop.Token).ConfigureAwait(false);
                        else if (item.Info is DirectoryInfo dir)
                            await tar.WriteDirectoryAsync(item.EntryName, LocalMode(dir, 0x1ED), dir.LastWriteTimeUtc, stop.Token).ConfigureAwait(false);
                        else
                        {
                            var file = (FileInfo)item.Info;
                            // Unbuffered: the tar writer reads in 80 KiB pieces already, a FileStream buffer would only copy them once more.
                            using var stream = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, useAsync: true);
                            await tar.WriteFileAsync(item.EntryName, LocalMode(file, 0x1A4), file.LastWriteTimeUtc, stream, stream.Length, n =>
                            {
                                state.BytesDone += n;
                                result.Bytes += n;
                                reporter.Changed();
                            }, stop.Token).ConfigureAwait(false);
                            result.Files++;
                            state.FilesDone = result.Files;
                            reporter.Changed();
                            result.Written.Add(ContainerPath.Combine(extractDir, item.EntryName));
                        }
                    }
                    await tar.FinishAsync(stop.Token).ConfigureAwait(false);
                    await pipe.Writer.CompleteAsync().ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    await pipe.Writer.CompleteAsync(e).ConfigureAwait(false);
                    throw;
                }
            });

            try
            {
                using var input = pipe.Reader.AsStream();
                await _engine.Client.Containers.ExtractArchiveToContainerAsync(containerId,
                    new CopyToContainerParameters { Path = extractDir, AllowOverwriteDirWithFile = false }, input, cancel).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                stop.Cancel();
                try { await producer.ConfigureAwait(false); } catch (Exception) { /* the engine's error says more */ }
                if (e is DockerApiException api)
                    throw new SandboxException("CopyFailed", SandboxErrorKind.InvalidOperation,
                        $"The engine refused the copy into '{destination}': {EngineErrors.Message(api)}", destination, null, e);
                throw DockerEngine.Translate(e, _engine.Endpoint);
            }
            await producer.ConfigureAwait(false);
            reporter.Finished();
            return result;
        }

        static void Collect(DirectoryInfo dir, string entryName, List<LocalItem> items, bool includeSelf)
        {
            if (includeSelf) items.Add(new LocalItem { EntryName = entryName, Info = dir });
            foreach (var child in dir.EnumerateFileSystemInfos().OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                var childName = entryName.Length == 0 ? child.Name : entryName + "/" + child.Name;
                var link = LinkTarget(child);
                if (link != null) items.Add(new LocalItem { EntryName = childName, Info = child, LinkTarget = link });
                else if (child is DirectoryInfo sub) Collect(sub, childName, items, includeSelf: true);
                else items.Add(new LocalItem { EntryName = childName, Info = child });
            }
        }

        internal static string? LinkTarget(FileSystemInfo info)
        {
#if NET
            return info.LinkTarget;
#else
            return null;
#endif
        }

        internal static int LocalMode(FileSystemInfo info, int fallback)
        {
#if NET
            if (!OperatingSystem.IsWindows()) return (int)File.GetUnixFileMode(info.FullName);
#endif
            return fallback;
        }

        /// <summary>Copies a file or folder out of the sandbox into <paramref name="localDestination"/>, refusing any entry that would land outside it.</summary>
        public async Task<TransferResult> DownloadAsync(string containerId, string containerPath, string localDestination,
            IProgress<TransferProgress>? progress, CancellationToken cancel)
        {
            ContainerArchiveResponse archive;
            try
            {
                archive = await _engine.Client.Containers.GetArchiveFromContainerAsync(containerId, new ContainerPathStatParameters { Path = containerPath }, false, cancel).ConfigureAwait(false);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                if (IsMissingContainer(e)) throw Lifecycle.SandboxGone.NotFound(containerId, e);
                throw new SandboxException("SandboxPathNotFound", SandboxErrorKind.ObjectNotFound, $"'{containerPath}' does not exist in the sandbox.", containerPath, null, e);
            }
            catch (Exception e) { throw DockerEngine.Translate(e, _engine.Endpoint); }

            string root;
            string? rename = null;
            if (Directory.Exists(localDestination)) root = localDestination;
            else
            {
                // As docker cp does: a folder may be copied to a new path that ends with a separator, a file not (that names a folder).
                var endsWithSeparator = localDestination.EndsWith("/", StringComparison.Ordinal) || localDestination.EndsWith(Path.DirectorySeparatorChar.ToString(), StringComparison.Ordinal);
                var isFolder = archive.Stat != null && IsDirectory(archive.Stat);
                var full = Path.GetFullPath(localDestination).TrimEnd('/', Path.DirectorySeparatorChar);
                root = Path.GetDirectoryName(full) ?? full;
                rename = Path.GetFileName(full);
                if (endsWithSeparator && !isFolder)
                {
                    archive.Stream?.Dispose();
                    throw new SandboxException("PathNotFound", SandboxErrorKind.ObjectNotFound,
                        $"Folder '{localDestination}' does not exist, so the file cannot be copied into it.", localDestination,
                        "Create the folder first (New-Item -ItemType Directory), or leave out the trailing separator to copy the file to that name.");
                }
                if (!Directory.Exists(root))
                {
                    archive.Stream?.Dispose();
                    throw new SandboxException("PathNotFound", SandboxErrorKind.ObjectNotFound,
                        $"Folder '{root}' does not exist, so '{rename}' cannot be made in it.", root,
                        "Create the folder first (New-Item -ItemType Directory), or copy to a folder that exists.");
                }
            }

            var result = new TransferResult();
            var state = new TransferProgress { BytesTotal = archive.Stat != null && !IsDirectory(archive.Stat) ? archive.Stat.Size : -1 };
            var reporter = new ProgressThrottle(progress, state);
            using var stream = archive.Stream ?? throw new SandboxException("CopyFailed", SandboxErrorKind.InvalidOperation,
                $"The engine sent no archive for '{containerPath}'.", containerPath);
            using var registration = cancel.Register(() => stream.Dispose());
            var reader = new TarReader(stream);
            var hardLinkSources = new Dictionary<string, string>(StringComparer.Ordinal);
            try
            {
                TarEntry? entry;
                while ((entry = await reader.NextAsync(cancel).ConfigureAwait(false)) != null)
                {
                    var name = Rename(entry.Name, rename);
                    var target = PathSafety.ResolveEntry(root, name);
                    if (target == null || PathSafety.PassesThroughLink(root, target))
                    {
                        result.Skipped.Add((entry.Name, "it would be written outside the destination"));
                        continue;
                    }
                    state.CurrentPath = target;
                    switch (entry.Type)
                    {
                        case TarEntryType.Directory:
                            PathSafety.RemoveLink(target);
                            Directory.CreateDirectory(target);
                            break;
                        case TarEntryType.File:
                            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                            // Written under a temporary name and renamed when complete: an interrupted copy leaves no truncated file.
                            var partial = FreshPartialPath(target);
                            try
                            {
                                using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
                                {
                                    await reader.CopyDataAsync(file, n => { state.BytesDone += n; result.Bytes += n; reporter.Changed(); }, cancel).ConfigureAwait(false);
                                }
                                MoveIntoPlace(partial, target);
                            }
                            catch
                            {
                                try { File.Delete(partial); } catch (IOException) { }
                                throw;
                            }
                            SetMode(target, entry.Mode);
                            result.Files++;
                            state.FilesDone = result.Files;
                            reporter.Changed();
                            result.Written.Add(target);
                            hardLinkSources[entry.Name] = target;
                            break;
                        case TarEntryType.HardLink:
                            if (entry.LinkTarget != null && hardLinkSources.TryGetValue(entry.LinkTarget, out var source))
                            {
                                var copy = FreshPartialPath(target);
                                try
                                {
                                    File.Copy(source, copy, overwrite: false);
                                    MoveIntoPlace(copy, target);
                                }
                                catch
                                {
                                    try { File.Delete(copy); } catch (IOException) { }
                                    throw;
                                }
                                result.Files++;
                                result.Written.Add(target);
                            }
                            else result.Skipped.Add((entry.Name, $"hard link to '{entry.LinkTarget}' outside the copy"));
                            break;
                        case TarEntryType.Symlink:
                            if (!PathSafety.IsLinkInside(root, target, entry.LinkTarget ?? ""))
                            {
                                result.Skipped.Add((entry.Name, $"symbolic link to '{entry.LinkTarget}' points outside the destination"));
                                break;
                            }
#if NET
                            PathSafety.RemoveLink(target);
                            if (File.Exists(target)) File.Delete(target);
                            File.CreateSymbolicLink(target, entry.LinkTarget!.Replace('/', Path.DirectorySeparatorChar));
                            result.Written.Add(target);
#else
                            result.Skipped.Add((entry.Name, "symbolic links are not copied out on this PowerShell edition"));
#endif
                            break;
                        default:
                            result.Skipped.Add((entry.Name, "devices, pipes and other special files are not copied"));
                            break;
                    }
                }
            }
            catch (ObjectDisposedException) when (cancel.IsCancellationRequested) { throw new OperationCanceledException(cancel); }
            catch (Exception e) when (cancel.IsCancellationRequested && (e is IOException || e is System.Net.Http.HttpRequestException)) { throw new OperationCanceledException(cancel); }
            catch (Exception e) when (e is IOException || e is System.Net.Http.HttpRequestException || e is System.Net.Sockets.SocketException)
            {
                throw DockerEngine.Translate(e, _engine.Endpoint);
            }
            reporter.Finished();
            return result;
        }

        /// <summary>
        /// The temporary name a file is written under, cleared of whatever an earlier copy or the user left there, so that
        /// creating it new never writes through a link.
        /// </summary>
        static string FreshPartialPath(string target)
        {
            var partial = target + ".sandbox-partial";
            PathSafety.RemoveLink(partial);
            if (File.Exists(partial)) File.Delete(partial);
            return partial;
        }

        /// <summary>
        /// Puts a complete file in the place of whatever is at the target: a link there is replaced, never written through,
        /// and a file there is replaced rather than rewritten, so that its other hard links keep their content.
        /// </summary>
        static void MoveIntoPlace(string partial, string target)
        {
            PathSafety.RemoveLink(target);
            if (File.Exists(target)) File.Delete(target);
            File.Move(partial, target);
        }

        static string Rename(string entryName, string? rename)
        {
            if (rename == null) return entryName;
            var slash = entryName.IndexOf('/');
            return slash < 0 ? rename : rename + entryName.Substring(slash);
        }

        static void SetMode(string path, int mode)
        {
#if NET
            if (!OperatingSystem.IsWindows() && mode != 0) File.SetUnixFileMode(path, (UnixFileMode)(mode & 0x1FF));
#endif
        }

        public async Task<ContainerPathStatResponse?> StatAsync(string containerId, string path, CancellationToken cancel)
        {
            try
            {
                var response = await _engine.Client.Containers.GetArchiveFromContainerAsync(containerId, new ContainerPathStatParameters { Path = path }, true, cancel).ConfigureAwait(false);
                response.Stream?.Dispose();
                return response.Stat;
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                // A HEAD answer has no body to tell a missing path from a missing sandbox: ask.
                if (IsMissingContainer(e) || !await ContainerExistsAsync(containerId).ConfigureAwait(false)) throw Lifecycle.SandboxGone.NotFound(containerId, e);
                return null;
            }
            catch (Exception e) when (!(e is DockerApiException)) { throw DockerEngine.Translate(e, _engine.Endpoint); }
        }

        async Task<bool> ContainerExistsAsync(string containerId)
        {
            try
            {
                await _engine.Client.Containers.InspectContainerAsync(containerId, CancellationToken.None).ConfigureAwait(false);
                return true;
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { return false; }
        }

        static bool IsMissingContainer(DockerApiException e) =>
            EngineErrors.Message(e).IndexOf("No such container", StringComparison.OrdinalIgnoreCase) >= 0;

        public static bool IsDirectory(ContainerPathStatResponse stat) => (stat.Mode & GoModeDir) != 0;
    }
}
