using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Files;
using Sandbox.Lifecycle;

namespace Sandbox.Build
{

    /// <summary>
    /// What an image is built from: the Dockerfile (the folder's own, or generated) and the project's files that
    /// .dockerignore lets through. Only names are held; file contents are read while hashing and while streaming.
    /// </summary>
    public sealed class BuildContext
    {
        const int DefaultFileMode = 0x1A4;   // 0644
        const int DefaultFolderMode = 0x1ED; // 0755

        public DetectedProject Project { get; }
        /// <summary>The generated Dockerfile; null when the folder's own is built.</summary>
        public string? GeneratedDockerfile { get; }
        /// <summary>The base image of the generated Dockerfile; null with the folder's own.</summary>
        public string? BaseImage { get; }
        /// <summary>What chose <see cref="BaseImage"/>: the language's build image unless -BaseImage named one.</summary>
        public ImageOrigin BaseImageOrigin { get; private set; } = ImageOrigin.Given;
        /// <summary>The Dockerfile's path in the context, as the engine's build API wants it.</summary>
        public string DockerfilePath => GeneratedDockerfile != null ? DockerfileGenerator.FileName : Project.DockerfileName!;
        public IReadOnlyList<ContextEntry> Entries { get; }
        public DockerIgnore Ignore { get; }

        /// <summary>Where the project's files sit in the context: beside a generated Dockerfile, in their own folder.</summary>
        string Prefix => GeneratedDockerfile != null ? DockerfileGenerator.ProjectFolder + "/" : "";

        BuildContext(DetectedProject project, string? generatedDockerfile, string? baseImage, DockerIgnore ignore, IReadOnlyList<ContextEntry> entries)
        {
            Project = project; GeneratedDockerfile = generatedDockerfile; BaseImage = baseImage; Ignore = ignore; Entries = entries;
        }

        /// <param name="baseImage">Overrides the language's build image; only for generated Dockerfiles.</param>
        public static BuildContext Create(DetectedProject project, string? baseImage)
        {
            var ignore = DockerIgnore.Load(project.Folder);
            string? generated = null;
            string? effectiveBase = null;
            if (project.DockerfileName == null)
            {
                effectiveBase = string.IsNullOrWhiteSpace(baseImage) ? project.Language!.EffectiveBuildImage : baseImage!.Trim();
                generated = DockerfileGenerator.Generate(project.Language!, effectiveBase);
            }
            var entries = new List<ContextEntry>();
            Collect(new DirectoryInfo(project.Folder), "", ignore, entries);
            if (project.DockerfileName != null)
            {
                // docker build always sends its Dockerfile and .dockerignore; the engine reads them and leaves them out of COPY itself.
                foreach (var name in new[] { project.DockerfileName, DockerIgnore.FileName })
                {
                    var file = new FileInfo(Path.Combine(project.Folder, name));
                    if (file.Exists && !entries.Any(e => e.Name == name))
                        entries.Add(new ContextEntry { Name = name, Info = file, Mode = ArchiveTransfer.LocalMode(file, DefaultFileMode) });
                }
                entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            }
            return new BuildContext(project, generated, effectiveBase, ignore, entries)
            {
                BaseImageOrigin = generated != null && string.IsNullOrWhiteSpace(baseImage) ? ImageOrigin.LanguageBuild(project.Language!.Name) : ImageOrigin.Given,
            };
        }

        static void Collect(DirectoryInfo folder, string relative, DockerIgnore ignore, List<ContextEntry> entries)
        {
            foreach (var child in folder.EnumerateFileSystemInfos().OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                var name = relative.Length == 0 ? child.Name : relative + "/" + child.Name;
                var link = ArchiveTransfer.LinkTarget(child);
                var isFolder = link == null && child is DirectoryInfo;
                if (ignore.IsExcluded(name))
                {
                    // An excluded folder is still walked when an exception may bring back something inside it.
                    if (isFolder && ignore.HasExceptions && ignore.MayIncludeInside(name)) Collect((DirectoryInfo)child, name, ignore, entries);
                    continue;
                }
                entries.Add(new ContextEntry
                {
                    Name = name, Info = child, LinkTarget = link,
                    Mode = link != null ? 0x1FF : ArchiveTransfer.LocalMode(child, isFolder ? DefaultFolderMode : DefaultFileMode),
                });
                if (isFolder) Collect((DirectoryInfo)child, name, ignore, entries);
            }
        }

        /// <summary>
        /// SHA-256 over everything that decides the image: the Dockerfile, the base image and every included entry's
        /// path, kind, mode and content. Timestamps and excluded files do not count.
        /// </summary>
        /// <param name="baseImageId">The id of the base image as the engine has it now, so that a base image rebuilt under the
        /// same name makes a new image; null when the engine does not have it yet (the build will pull it).</param>
        public string ComputeHash(string? baseImageId = null)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            void Add(string text)
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                hash.AppendData(bytes);
                hash.AppendData(new byte[1]);
            }
            Add("sandbox-build/1");
            Add(DockerfilePath);
            Add(GeneratedDockerfile ?? "");
            Add(BaseImage ?? "");
            Add(baseImageId ?? "");
            var buffer = new byte[81920];
            foreach (var entry in Entries)
            {
                if (entry.LinkTarget != null) { Add("link"); Add(entry.Name); Add(entry.LinkTarget); continue; }
                if (entry.IsDirectory) { Add("dir"); Add(entry.Name); Add(Convert.ToString(entry.Mode, 8)); continue; }
                Add("file"); Add(entry.Name); Add(Convert.ToString(entry.Mode, 8));
                using var stream = OpenRead((FileInfo)entry.Info, useAsync: false);
                Add(stream.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
                int read;
                while ((read = stream.Read(buffer, 0, buffer.Length)) > 0) hash.AppendData(buffer, 0, read);
            }
            return ToHex(hash.GetHashAndReset());
        }

        /// <summary>Writes the context as a tar stream, one file at a time.</summary>
        public async Task WriteAsync(Stream output, Action<long>? written, CancellationToken cancel)
        {
            var tar = new TarWriter(output);
            var now = DateTime.UtcNow;
            if (GeneratedDockerfile != null)
            {
                var bytes = Encoding.UTF8.GetBytes(GeneratedDockerfile);
                using (var content = new MemoryStream(bytes))
                    await tar.WriteFileAsync(DockerfileGenerator.FileName, DefaultFileMode, now, content, bytes.Length, null, cancel).ConfigureAwait(false);
                await tar.WriteDirectoryAsync(DockerfileGenerator.ProjectFolder, DefaultFolderMode, now, cancel).ConfigureAwait(false);
            }
            foreach (var entry in Entries)
            {
                var name = Prefix + entry.Name;
                if (entry.LinkTarget != null)
                    await tar.WriteSymlinkAsync(name, entry.LinkTarget, entry.Info.LastWriteTimeUtc, cancel).ConfigureAwait(false);
                else if (entry.IsDirectory)
                    await tar.WriteDirectoryAsync(name, entry.Mode, entry.Info.LastWriteTimeUtc, cancel).ConfigureAwait(false);
                else
                {
                    using var stream = OpenRead((FileInfo)entry.Info, useAsync: true);
                    await tar.WriteFileAsync(name, entry.Mode, entry.Info.LastWriteTimeUtc, stream, stream.Length, written, cancel).ConfigureAwait(false);
                }
            }
            await tar.FinishAsync(cancel).ConfigureAwait(false);
        }

        public long TotalBytes => Entries.Where(e => e.IsFile).Sum(e => ((FileInfo)e.Info).Length);

        static FileStream OpenRead(FileInfo file, bool useAsync) =>
            new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 81920, useAsync);

        static string ToHex(byte[] bytes)
        {
            var text = new StringBuilder(bytes.Length * 2);
            foreach (var b in bytes) text.Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            return text.ToString();
        }
    }
}
