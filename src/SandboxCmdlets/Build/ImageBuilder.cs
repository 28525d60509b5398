using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Pipelines;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Build
{

    /// <summary>
    /// Builds a project's image on an engine, tagged by the hash of its inputs so that an unchanged project is not
    /// built again. Uses the engine's classic builder, which needs no BuildKit session and works the same over ssh://.
    /// </summary>
    public sealed class ImageBuilder
    {
        public const string Repository = "sandbox-build";
        public const string BuildLabel = SandboxLabels.Prefix + "build";
        public const string HashLabel = BuildLabel + ".hash";
        public const string SourceLabel = BuildLabel + ".source";
        public const string LanguageLabel = BuildLabel + ".language";
        const int FailureLogLines = 20;

        static readonly Regex StepPattern = new Regex(@"^Step (\d+)/(\d+) : (.*)$");
        /// <summary>The builder's own chatter between a step's output lines, left out of the failure log.</summary>
        static readonly Regex BuilderChatter = new Regex(@"^( ---> |Removing intermediate container )");
        /// <summary>The classic builder colours a step's stderr with terminal escapes.</summary>
        static readonly Regex TerminalEscape = new Regex(@"\x1B\[[0-9;]*[A-Za-z]");

        readonly DockerEngine _engine;

        public ImageBuilder(DockerEngine engine) => _engine = engine;

        /// <summary>sandbox-build/&lt;folder name made a valid repository name&gt;:&lt;first 16 hex digits of the hash&gt;.</summary>
        public static string TagFor(string folder, string hash)
        {
            var name = Path.GetFileName(folder.TrimEnd('/', '\\')).ToLowerInvariant();
            // A repository path component is lower-case alphanumerics joined by separators; one '-' is always valid.
            name = Regex.Replace(name, "[^a-z0-9]+", "-").Trim('-');
            if (name.Length > 64) name = name.Substring(0, 64).TrimEnd('-');
            if (name.Length == 0) name = "project";
            return $"{Repository}/{name}:{hash.Substring(0, 16)}";
        }

        public async Task<BuildResult> BuildAsync(BuildContext context, IProgress<BuildProgress>? progress, CancellationToken cancel)
        {
            var clock = Stopwatch.StartNew();
            var baseImageId = context.BaseImage != null ? await FindImageAsync(context.BaseImage, cancel).ConfigureAwait(false) : null;
            var hash = context.ComputeHash(baseImageId);
            var tag = TagFor(context.Project.Folder, hash);
            var existing = await FindImageAsync(tag, cancel).ConfigureAwait(false);
            if (existing != null)
                return new BuildResult { Tag = tag, ImageId = existing, CacheHit = true, Hash = hash, Elapsed = clock.Elapsed };

            var log = new BuildLog(tag, progress);
            var parameters = new ImageBuildParameters
            {
                Tags = new List<string> { tag },
                Dockerfile = context.DockerfilePath,
                Remove = true,
                // Intermediate containers of a failed step go too, as they would fill the engine build after build.
                ForceRemove = true,
                // The classic builder: BuildKit would need a session the API alone cannot give.
                Version = "1",
                Labels = new Dictionary<string, string>
                {
                    [BuildLabel] = "true",
                    [HashLabel] = hash,
                    [SourceLabel] = context.Project.Folder,
                    [LanguageLabel] = context.Project.Language?.Name ?? "dockerfile",
                },
            };

            var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var total = context.TotalBytes;
            long sent = 0;
            var producer = Task.Run(async () =>
            {
                try
                {
                    await context.WriteAsync(pipe.Writer.AsStream(), n =>
                    {
                        sent += n;
                        progress?.Report(new BuildProgress { Tag = tag, ContextBytesSent = sent, ContextBytesTotal = total });
                    }, stop.Token).ConfigureAwait(false);
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
                var build = _engine.Client.Images.BuildImageFromDockerfileAsync(parameters, input, new List<AuthConfig>(),
                    new Dictionary<string, string>(), log, stop.Token);
                await build.WithCancellation(cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                stop.Cancel();
                throw;
            }
            catch (DockerApiException e)
            {
                stop.Cancel();
                await Quietly(producer).ConfigureAwait(false);
                throw Failure(context, log, EngineErrors.Message(e), e);
            }
            catch (Exception e)
            {
                stop.Cancel();
                await Quietly(producer).ConfigureAwait(false);
                throw DockerEngine.Translate(e, _engine.Endpoint);
            }
            await Quietly(producer).ConfigureAwait(false);
            log.Flush();
            if (log.Error != null) throw Failure(context, log, log.Error, null);

            var id = await FindImageAsync(tag, cancel).ConfigureAwait(false)
                ?? throw Failure(context, log, $"the engine finished without an error but there is no image '{tag}'", null);
            return new BuildResult { Tag = tag, ImageId = id, Hash = hash, Elapsed = clock.Elapsed };
        }

        static async Task Quietly(Task task)
        {
            try { await task.ConfigureAwait(false); }
            catch (Exception) { /* the engine's side of the failure says more */ }
        }

        async Task<string?> FindImageAsync(string tag, CancellationToken cancel)
        {
            try { return (await _engine.Client.Images.InspectImageAsync(tag, cancel).ConfigureAwait(false)).ID; }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { return null; }
            catch (Exception e) when (!(e is DockerApiException) && !(e is OperationCanceledException)) { throw DockerEngine.Translate(e, _engine.Endpoint); }
        }

        static SandboxException Failure(BuildContext context, BuildLog log, string error, Exception? inner)
        {
            var text = new StringBuilder();
            text.Append($"Building an image from '{context.Project.Folder}' ({context.Project.Description}) failed");
            if (log.Step > 0) text.Append($" at step {log.Step}/{log.StepCount} ({log.Instruction})");
            text.Append(": ").Append(error.Trim());
            var lines = log.StepLines.ToList();
            if (lines.Count > 0)
            {
                text.Append($"\nLast {lines.Count} line(s) of the step's output:");
                foreach (var line in lines) text.Append("\n  ").Append(line);
            }
            // The first step pulls the base image: its failure is the image's, not the project's.
            if (log.Instruction.StartsWith("FROM", StringComparison.OrdinalIgnoreCase))
            {
                if (context.BaseImageOrigin.Description != null) text.Append($"\nThe base image is {context.BaseImageOrigin.Description}.");
                return new SandboxException("ImageBuildFailed", SandboxErrorKind.InvalidOperation, text.ToString(), context.Project.Folder,
                    ImagePuller.Advice(error, context.BaseImageOrigin), inner);
            }
            return new SandboxException("ImageBuildFailed", SandboxErrorKind.InvalidOperation, text.ToString(), context.Project.Folder,
                context.GeneratedDockerfile != null
                    ? "Fix the project (its dependency list or files), or give a base image that has what it needs with -BaseImage."
                    : "Fix the project's Dockerfile; docker build in that folder shows the same failure.", inner);
        }

        /// <summary>
        /// Reads the classic builder's messages synchronously (in order, unlike Progress&lt;T&gt;): splits them into
        /// lines, follows the steps and keeps the current step's last lines for an error.
        /// </summary>
        sealed class BuildLog : IProgress<JSONMessage>
        {
            readonly string _tag;
            readonly IProgress<BuildProgress>? _progress;
            readonly StringBuilder _partial = new StringBuilder();
            readonly Queue<string> _stepLines = new Queue<string>();

            public BuildLog(string tag, IProgress<BuildProgress>? progress) { _tag = tag; _progress = progress; }

            public int Step { get; private set; }
            public int StepCount { get; private set; }
            public string Instruction { get; private set; } = "";
            public string? Error { get; private set; }
            public IEnumerable<string> StepLines => _stepLines;

            public void Report(JSONMessage value)
            {
                if (value.Error != null && !string.IsNullOrEmpty(value.Error.Message)) Error = value.Error.Message;
                if (!string.IsNullOrEmpty(value.Stream)) Append(value.Stream!);
                else if (!string.IsNullOrEmpty(value.Status)) Line(string.IsNullOrEmpty(value.ID) ? value.Status! : $"{value.ID}: {value.Status}");
            }

            void Append(string text)
            {
                _partial.Append(text.Replace("\r\n", "\n"));
                var all = _partial.ToString();
                var end = all.LastIndexOf('\n');
                if (end < 0) return;
                _partial.Clear().Append(all.Substring(end + 1));
                foreach (var line in all.Substring(0, end).Split('\n')) Line(line);
            }

            public void Flush()
            {
                if (_partial.Length == 0) return;
                var rest = _partial.ToString();
                _partial.Clear();
                Line(rest);
            }

            void Line(string line)
            {
                // A progress bar redraws itself with carriage returns: its last state is the line.
                var cr = line.LastIndexOf('\r');
                if (cr >= 0) line = line.Substring(cr + 1);
                line = TerminalEscape.Replace(line, "").TrimEnd();
                var step = StepPattern.Match(line);
                if (step.Success)
                {
                    Step = int.Parse(step.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                    StepCount = int.Parse(step.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
                    Instruction = step.Groups[3].Value;
                    _stepLines.Clear();
                }
                else if (line.Length > 0 && !BuilderChatter.IsMatch(line))
                {
                    _stepLines.Enqueue(line);
                    while (_stepLines.Count > FailureLogLines) _stepLines.Dequeue();
                }
                _progress?.Report(new BuildProgress { Tag = _tag, Step = Step, StepCount = StepCount, Instruction = Instruction, Line = line });
            }
        }
    }
}
