using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Exec;
using Sandbox.Files;
using Sandbox.Lifecycle;

namespace Sandbox.Languages
{
    /// <summary>
    /// Runs a piece of code in a sandbox: writes it to a file of its own there, runs the language's command on that file
    /// with the caller's arguments, and removes the file again.
    /// </summary>
    public sealed class CodeRunner
    {
        public const string CodeFolder = "/tmp/.sandbox-code";

        // Sticky and not listable (1733): any user may put a file there, none can list the others' or remove them.
        const int CodeFolderMode = 0x3DB;
        const int CodeFileMode = 0x1A4;

        // Linux takes at most 128 KiB in one argument; a read-only sandbox gets its code file written in pieces below that.
        const int ArgumentChunkChars = 16 * 1024;
        const int MaxArgumentCodeChars = 1024 * 1024;

        readonly DockerEngine _engine;

        public CodeRunner(DockerEngine engine) => _engine = engine;

        /// <summary>A fresh, unguessable path for one run's code file, with the language's extension (some interpreters need it).</summary>
        public static string NewCodeFilePath(string extension) => $"{CodeFolder}/{Guid.NewGuid():N}{extension}";

        /// <summary>The language's run command with the code file in place of {file}, then the caller's arguments as they are.</summary>
        public static List<string> BuildArgv(LanguageDefinition language, string codeFile, IEnumerable<string>? arguments) =>
            language.RunCommand.Select(a => a.Replace(LanguageDefinition.FilePlaceholder, codeFile))
                .Concat(arguments ?? Enumerable.Empty<string>()).ToList();

        /// <summary>
        /// Writes <paramref name="code"/> into the sandbox and runs it as <paramref name="request"/> says (its Argv is set here).
        /// An interpreter the image lacks becomes the error LanguageRuntimeNotFound, naming it and <paramref name="image"/>.
        /// </summary>
        public async Task<ExecOutcome> RunAsync(string containerId, string image, LanguageDefinition language, byte[] code, IEnumerable<string>? arguments,
            ExecRequest request, Action<string> onStdOut, Action<string> onStdErr, bool removeAfter, CancellationToken cancel)
        {
            var file = NewCodeFilePath(language.Extension);
            await WriteCodeFileAsync(containerId, file, code, cancel).ConfigureAwait(false);
            try
            {
                request.Argv = BuildArgv(language, file, arguments);
                string? notFoundLine = null;
                ExecOutcome outcome;
                try
                {
                    outcome = await new CommandRunner(_engine).RunAsync(containerId, request, onStdOut, line =>
                    {
                        if (notFoundLine == null && SaysInterpreterNotFound(line, language.Interpreter)) notFoundLine = line;
                        onStdErr(line);
                    }, cancel).ConfigureAwait(false);
                }
                catch (SandboxException e) when (e.ErrorId == "SandboxCommandNotFound")
                {
                    throw RuntimeNotFound(language, image, e.Message, e);
                }
                if (outcome.ExitCode == 127 && notFoundLine != null) throw RuntimeNotFound(language, image, notFoundLine, null);
                return outcome;
            }
            finally
            {
                if (removeAfter) await RemoveQuietlyAsync(containerId, file).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// A launcher such as env or sh that cannot find the interpreter exits 127 and says so on stderr about the interpreter
        /// itself: "python3: not found", "sh: 1: python3: not found", "env: 'python3': No such file or directory".
        /// </summary>
        public static bool SaysInterpreterNotFound(string line, string interpreter)
        {
            var name = Regex.Escape(interpreter.Substring(interpreter.LastIndexOf('/') + 1));
            return Regex.IsMatch(line, $@"(^|[\s'""`\u2018])(\S*/)?{name}['""`\u2019]?: (not found|command not found|No such file or directory)");
        }

        static SandboxException RuntimeNotFound(LanguageDefinition language, string image, string detail, Exception? inner) =>
            new SandboxException("LanguageRuntimeNotFound", SandboxErrorKind.ObjectNotFound,
                $"Language '{language.Name}' runs '{language.Interpreter}', which image '{image}' does not have ({detail.Trim()}).",
                language.Name,
                $"Run the code in a sandbox or image that has {language.Interpreter} (-Sandbox, -Image), or point the language at one: Register-SandboxLanguage -Name {language.Name} -Image <image> ...",
                inner);

        /// <summary>
        /// Puts the file into the sandbox through the archive API. That API writes to the container's root file system, so
        /// where that is read-only, or where /tmp is a tmpfs the API cannot see into, a root exec writes the file instead.
        /// </summary>
        async Task WriteCodeFileAsync(string containerId, string file, byte[] code, CancellationToken cancel)
        {
            ContainerInspectResponse inspect;
            try { inspect = await _engine.Client.Containers.InspectContainerAsync(containerId, cancel).ConfigureAwait(false); }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                throw SandboxGone.NotFound(containerId, e);
            }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, _engine.Endpoint); }
            var host = inspect.HostConfig;
            if (host != null && (host.ReadonlyRootfs || (host.Tmpfs != null && host.Tmpfs.ContainsKey("/tmp"))))
            {
                await WriteThroughExecAsync(containerId, file, code, cancel).ConfigureAwait(false);
                return;
            }

            var folderName = CodeFolder.Substring("/tmp/".Length);
            using var archive = new MemoryStream();
            var tar = new TarWriter(archive);
            var now = DateTime.UtcNow;
            await tar.WriteDirectoryAsync(folderName, CodeFolderMode, now, cancel).ConfigureAwait(false);
            using (var content = new MemoryStream(code, writable: false))
                await tar.WriteFileAsync($"{folderName}/{file.Substring(CodeFolder.Length + 1)}", CodeFileMode, now, content, code.Length, null, cancel).ConfigureAwait(false);
            await tar.FinishAsync(cancel).ConfigureAwait(false);
            archive.Position = 0;

            try
            {
                await _engine.Client.Containers.ExtractArchiveToContainerAsync(containerId,
                    new CopyToContainerParameters { Path = "/tmp", AllowOverwriteDirWithFile = false }, archive, cancel).ConfigureAwait(false);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound && EngineErrors.Message(e).IndexOf("container", StringComparison.OrdinalIgnoreCase) >= 0)
            {
                throw SandboxGone.NotFound(containerId, e);
            }
            catch (DockerApiException e)
            {
                throw new SandboxException("CodeWriteFailed", SandboxErrorKind.InvalidOperation,
                    $"The code could not be written to {CodeFolder} in the sandbox: {EngineErrors.Message(e)}", containerId,
                    "The sandbox's image needs a writable /tmp folder.", e);
            }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, _engine.Endpoint); }
        }

        async Task WriteThroughExecAsync(string containerId, string file, byte[] code, CancellationToken cancel)
        {
            var chunks = ArgumentChunks(code, file);
            const string script = "umask 022; d=${1%/*}; mkdir -p \"$d\" && chmod 1733 \"$d\" && f=$1 && shift && : > \"$f\" && " +
                                  "for c in \"$@\"; do printf %s \"$c\" >> \"$f\" || exit 1; done";
            var argv = new List<string> { "/bin/sh", "-c", script, "sh", file };
            argv.AddRange(chunks);
            var errors = new StringBuilder();
            var outcome = await new CommandRunner(_engine).RunAsync(containerId, new ExecRequest { Argv = argv, User = "0", CaptureLimitChars = 0 },
                _ => { }, line => errors.AppendLine(line), cancel).ConfigureAwait(false);
            if (outcome.ExitCode != 0)
                throw new SandboxException("CodeWriteFailed", SandboxErrorKind.InvalidOperation,
                    $"The code could not be written to {CodeFolder} in the sandbox's /tmp tmpfs (exit code {outcome.ExitCode}): {errors.ToString().Trim()}", containerId,
                    "The sandbox needs a writable /tmp (New-Sandbox -ReadOnly mounts one) and /bin/sh.");
        }

        /// <summary>The code as text in pieces that each fit in one argument, never splitting a character.</summary>
        static List<string> ArgumentChunks(byte[] code, string file)
        {
            string text;
            try { text = new UTF8Encoding(false, true).GetString(code); }
            catch (DecoderFallbackException) { text = "\0"; }
            if (text.IndexOf('\0') >= 0 || text.Length > MaxArgumentCodeChars)
                throw new SandboxException("CodeWriteFailed", SandboxErrorKind.InvalidOperation,
                    $"The sandbox's root file system is read-only (or its /tmp a tmpfs), and code that is binary or larger than {MaxArgumentCodeChars / 1024} KiB cannot be written into it another way.", file,
                    "Use a sandbox without -ReadOnly, or copy the file into the sandbox's workspace with Copy-SandboxItem and run it with Invoke-SandboxCommand.");
            var chunks = new List<string>();
            for (var start = 0; start < text.Length;)
            {
                var length = Math.Min(ArgumentChunkChars, text.Length - start);
                if (start + length < text.Length && char.IsHighSurrogate(text[start + length - 1])) length--;
                chunks.Add(text.Substring(start, length));
                start += length;
            }
            return chunks;
        }

        async Task RemoveQuietlyAsync(string containerId, string file)
        {
            try
            {
                await new CommandRunner(_engine).RunAsync(containerId, new ExecRequest { Argv = new List<string> { "rm", "-f", file }, User = "0", CaptureLimitChars = 0 },
                    _ => { }, _ => { }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception) { /* the sandbox is gone or has no rm: the file goes with the sandbox */ }
        }
    }
}
