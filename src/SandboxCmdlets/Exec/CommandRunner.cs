using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Exec
{
    /// <summary>
    /// Runs one command in a sandbox through the exec API with separate stdout and stderr, streamed as lines.
    /// The engine cannot kill an exec, so each run is tagged with an environment variable and killed from inside by that tag.
    /// </summary>
    public sealed class CommandRunner
    {
        internal const string TagVariable = "SANDBOX_EXEC_ID";
        readonly DockerEngine _engine;

        public CommandRunner(DockerEngine engine) => _engine = engine;

        public async Task<ExecOutcome> RunAsync(string containerId, ExecRequest request, Action<string> onStdOut, Action<string> onStdErr, CancellationToken cancel)
        {
            var tag = Guid.NewGuid().ToString("N");
            var env = request.Environment.Select(kv => $"{kv.Key}={kv.Value}").ToList();
            env.Add($"{TagVariable}={tag}");
            var create = new ContainerExecCreateParameters
            {
                Cmd = request.Argv,
                AttachStdin = request.OpenStandardInput != null,
                AttachStdout = true,
                AttachStderr = true,
                Env = env,
                User = request.User ?? "",
                WorkingDir = request.WorkingDirectory ?? "",
            };

            var clock = Stopwatch.StartNew();
            string execId;
            MultiplexedStream stream;
            try
            {
                execId = (await _engine.Client.Exec.CreateContainerExecAsync(containerId, create, cancel).ConfigureAwait(false)).ID;
                stream = await _engine.Client.Exec.StartContainerExecAsync(execId, new ContainerExecStartParameters(), cancel).ConfigureAwait(false);
            }
            catch (DockerApiException e) { throw ExecFailure(e, containerId); }
            catch (Exception e) { throw DockerEngine.Translate(e, _engine.Endpoint); }

            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            var capture = request.CaptureLimitChars > 0;
            // When the runtime cannot start the command at all it says why on stdout and exits 126 or 127: that first
            // line is held back, and becomes an error if the exit code confirms it.
            string? runtimeFailure = null;
            var firstLine = true;
            var outLines = new LineSplitter(line =>
            {
                if (firstLine && RuntimeFailurePattern.IsMatch(line)) { runtimeFailure = line; firstLine = false; return; }
                firstLine = false;
                onStdOut(line);
            }, capture ? stdout : null, request.CaptureLimitChars);
            var tail = new StandardErrorTail();
            var errLines = new LineSplitter(line => { tail.Add(line); onStdErr(line); }, capture ? stderr : null, request.CaptureLimitChars);
            using var timeout = request.Timeout > TimeSpan.Zero ? new CancellationTokenSource(request.Timeout) : new CancellationTokenSource();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel, timeout.Token);
            using var readerDone = new CancellationTokenSource();

            var activity = new StreamActivity();
            using var inputDone = new CancellationTokenSource();
            var feed = request.OpenStandardInput == null ? Task.CompletedTask : FeedAsync(request.OpenStandardInput, stream, inputDone.Token);
            var pump = PumpAsync(stream, outLines, errLines, activity);
            var detached = false;
            var watcher = WatchForExitAsync(containerId, execId, tag, request.User, pump, activity, () => { detached = true; stream.Dispose(); }, readerDone.Token);
            // Reads ignore cancellation tokens, so the stream is disposed to unblock them.
            using (stop.Token.Register(() => stream.Dispose()))
            {
                try { await pump.ConfigureAwait(false); }
                catch (Exception) when (stop.IsCancellationRequested || detached) { }
                catch (Exception e) { readerDone.Cancel(); inputDone.Cancel(); throw DockerEngine.Translate(e, _engine.Endpoint); }
            }
            readerDone.Cancel();
            inputDone.Cancel();
            stream.Dispose();
            try { await watcher.ConfigureAwait(false); } catch (Exception) { /* only ever shortens the wait */ }
            await feed.ConfigureAwait(false);
            outLines.Flush();
            errLines.Flush();

            // A stream that ended because the link to the engine broke looks like the end of output: the exec tells.
            var inspect = stop.IsCancellationRequested ? null : await ExitAfterStreamEndAsync(containerId, execId, tag, request.User, stop.Token).ConfigureAwait(false);

            var outcome = new ExecOutcome
            {
                StdOut = stdout.ToString(), StdErr = stderr.ToString(), Truncated = outLines.Truncated || errLines.Truncated, StdErrTail = tail.Lines(),
            };
            if (stop.IsCancellationRequested)
            {
                await KillAsync(containerId, tag, request.User).ConfigureAwait(false);
                outcome.Duration = clock.Elapsed;
                if (cancel.IsCancellationRequested) throw new OperationCanceledException(cancel);
                outcome.TimedOut = true;
                outcome.ExitCode = ExitCodes.TimedOut;
                return outcome;
            }

            outcome.ExitCode = (int)(inspect?.ExitCode ?? -1);
            outcome.Duration = clock.Elapsed;
            if (runtimeFailure != null)
            {
                if (outcome.ExitCode == 126 || outcome.ExitCode == 127) throw StartFailure(runtimeFailure, request, containerId);
                onStdOut(runtimeFailure);
            }
            if (outcome.ExitCode == 137) outcome.OomKilled = await WasOomKilledAsync(containerId).ConfigureAwait(false);
            return outcome;
        }

        /// <summary>
        /// Copies the input to the command's stdin and then closes it, so that the command reads an end of file. Input the
        /// command no longer takes (it exited, or closed its stdin) is dropped, as a shell drops what a pipe's reader left.
        /// </summary>
        static Task FeedAsync(Func<Stream> open, MultiplexedStream stream, CancellationToken commandEnded) => Task.Run(async () =>
        {
            Stream? input = null;
            try
            {
                input = open();
                var buffer = new byte[65536];
                while (true)
                {
                    var read = await input.ReadAsync(buffer, 0, buffer.Length, commandEnded).ConfigureAwait(false);
                    if (read == 0) break;
                    await stream.WriteAsync(buffer, 0, read, commandEnded).ConfigureAwait(false);
                }
                stream.CloseWrite();
            }
            catch (Exception) { /* the command ended or the run was stopped: nothing reads the rest of the input */ }
            finally { input?.Dispose(); }
        });

        /// <summary>
        /// Reads the engine's stream and hands its lines over; a consumer that lags blocks the handing over, so that this stops
        /// reading and the engine's stream, not memory, holds the rest.
        /// </summary>
        static Task PumpAsync(MultiplexedStream stream, LineSplitter stdout, LineSplitter stderr, StreamActivity activity) => Task.Run(async () =>
        {
            var buffer = new byte[81920];
            while (true)
            {
                activity.WaitingForEngine();
                var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None).ConfigureAwait(false);
                activity.HandingOver();
                if (read.EOF) return;
                if (read.Target == MultiplexedStream.TargetStream.StandardError) stderr.Write(buffer, 0, read.Count);
                else stdout.Write(buffer, 0, read.Count);
            }
        });

        /// <summary>
        /// A command that leaves a background process keeps the output pipe open after it exits, and the engine then holds the
        /// stream for seconds. Once the process itself has exited, read on while the engine still sends, and stop reading only
        /// when its stream has been quiet for a spell (or has flowed for a while) and a process the command started is
        /// still there to hold the pipe: only that background process's later output is cut. Time the consumer takes to
        /// accept lines is neither quiet nor flow, and without a background process the stream is read to its end.
        /// </summary>
        async Task WatchForExitAsync(string containerId, string execId, string tag, string? user, Task pump, StreamActivity activity, Action detach, CancellationToken readerDone)
        {
            // The first look waits 200 ms: most commands are done by then, and an inspect at 50 ms, mid-exec, cost
            // every short command one more request to an engine busy running it.
            var delay = 200;
            while (!readerDone.IsCancellationRequested)
            {
                if (await Task.WhenAny(pump, Task.Delay(delay, readerDone)).ConfigureAwait(false) == pump || readerDone.IsCancellationRequested) return;
                delay = Math.Min(delay * 2, 200);
                var inspect = await InspectAsync(execId, readerDone).ConfigureAwait(false);
                if (inspect == null || inspect.Running) continue;

                var exitedAt = activity.Now;
                var handingOverAtExit = activity.HandingOverTicks();
                while (!pump.IsCompleted)
                {
                    var quiet = activity.QuietSince(exitedAt);
                    if (quiet >= QuietAfterExit || activity.StreamTimeSince(exitedAt, handingOverAtExit) >= FlowAfterExit) break;
                    await Task.WhenAny(pump, Task.Delay(QuietAfterExit - quiet, readerDone)).ConfigureAwait(false);
                    if (readerDone.IsCancellationRequested) return;
                }
                if (pump.IsCompleted) return;
                // The engine may hold this check back until it gives up on the pipe itself (about 2 s after the exit) and
                // ends the stream: then the stream's end answers first.
                var remains = TaggedProcessRemainsAsync(containerId, tag, user);
                if (await Task.WhenAny(remains, pump).ConfigureAwait(false) == remains && await remains.ConfigureAwait(false)) detach();
                return;
            }
        }

        /// <summary>
        /// The exec once its stream has ended: the engine ends it when the command has exited, and may record the exit a
        /// moment later, so a running exec is asked again for a second. One still running then lost its stream with the
        /// link to the engine (the connection broke, not the engine's answers to new ones): the output from there on is
        /// lost, so the command is killed, as on Ctrl+C, and that is an error, not a result with no exit code. Null: the
        /// exec or its sandbox is gone, or the run was stopped meanwhile.
        /// </summary>
        async Task<ContainerExecInspectResponse?> ExitAfterStreamEndAsync(string containerId, string execId, string tag, string? user, CancellationToken stop)
        {
            var waited = TimeSpan.Zero;
            for (var delay = TimeSpan.FromMilliseconds(25); ; delay = TimeSpan.FromTicks(delay.Ticks * 2))
            {
                ContainerExecInspectResponse inspect;
                try { inspect = await _engine.Client.Exec.InspectContainerExecAsync(execId, CancellationToken.None).ConfigureAwait(false); }
                catch (DockerApiException) { return null; }
                catch (Exception e) { throw DockerEngine.Translate(e, _engine.Endpoint); }
                if (!inspect.Running) return inspect;
                if (waited >= StreamLostAfter)
                {
                    await KillAsync(containerId, tag, user).ConfigureAwait(false);
                    throw new SandboxException("DockerEndpointUnavailable", SandboxErrorKind.ConnectionError,
                        $"The connection to the Docker engine at {_engine.Endpoint.Host} broke while the command was running: its output from there on is lost, and the command was stopped.",
                        _engine.Endpoint.Host, "Check the link to the engine and run the command again.");
                }
                try { await Task.Delay(delay, stop).ConfigureAwait(false); }
                catch (OperationCanceledException) { return null; }
                waited += delay;
            }
        }

        static readonly TimeSpan StreamLostAfter = TimeSpan.FromSeconds(1);

        static readonly TimeSpan QuietAfterExit = TimeSpan.FromMilliseconds(300);
        static readonly TimeSpan FlowAfterExit = TimeSpan.FromSeconds(2);

        async Task<ContainerExecInspectResponse?> InspectAsync(string execId, CancellationToken cancel)
        {
            try { return await _engine.Client.Exec.InspectContainerExecAsync(execId, cancel).ConfigureAwait(false); }
            catch (OperationCanceledException) { return null; }
            catch (DockerApiException) { return null; }
        }

        /// <summary>A shell loop over the processes that carry this run's tag (the command and anything it started), running <paramref name="action"/> on each pid $n.</summary>
        internal static string ForEachTaggedProcess(string tag, string action) =>
            "for p in /proc/[0-9]*; do " +
            $"if tr '\\0' '\\n' < $p/environ 2>/dev/null | grep -qx '{TagVariable}={tag}'; then n=${{p#/proc/}}; {action}; fi; " +
            "done";

        /// <summary>Kills every process that carries this run's tag: the command and anything it started.</summary>
        Task KillAsync(string containerId, string tag, string? user) =>
            CaptureAsync(containerId, ForEachTaggedProcess(tag, "kill -9 $n 2>/dev/null"), user);

        /// <summary>
        /// Whether a process the command started is still alive, and so may hold its output pipe. A sandbox where that cannot
        /// be told (no /bin/sh) counts as having none: the engine then ends the stream itself, and nothing is cut.
        /// </summary>
        async Task<bool> TaggedProcessRemainsAsync(string containerId, string tag, string? user)
        {
            var found = await CaptureAsync(containerId, ForEachTaggedProcess(tag, "echo $n; break"), user).ConfigureAwait(false);
            return !string.IsNullOrWhiteSpace(found);
        }

        static readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> OomKillsSeen = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();

        /// <summary>
        /// A process killed with SIGKILL may have been the kernel's OOM killer: the sandbox's memory cgroup counts those
        /// kills (oom_kill in memory.events on cgroup v2, memory.oom_control on v1), so a count that went up says so.
        /// </summary>
        async Task<bool> WasOomKilledAsync(string containerId)
        {
            var text = await CaptureAsync(containerId, "cat /sys/fs/cgroup/memory.events 2>/dev/null || cat /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null").ConfigureAwait(false);
            var match = System.Text.RegularExpressions.Regex.Match(text ?? "", @"(?m)^oom_kill\s+(\d+)");
            if (!match.Success) return false;
            var count = long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            var seen = OomKillsSeen.TryGetValue(containerId, out var previous) ? previous : 0;
            OomKillsSeen[containerId] = count;
            return count > seen;
        }

        /// <summary>Runs a short shell script in its own exec and returns its stdout; null when it could not run (or took over 5 s).</summary>
        internal async Task<string?> CaptureAsync(string containerId, string script, string? user = null)
        {
            try
            {
                var exec = await _engine.Client.Exec.CreateContainerExecAsync(containerId, new ContainerExecCreateParameters
                {
                    Cmd = new List<string> { "/bin/sh", "-c", script },
                    AttachStdout = true,
                    AttachStderr = true,
                    User = user ?? "",
                }, CancellationToken.None).ConfigureAwait(false);
                using var stream = await _engine.Client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), CancellationToken.None).ConfigureAwait(false);
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                using (limit.Token.Register(() => stream.Dispose()))
                    return (await stream.ReadOutputToEndAsync(CancellationToken.None).ConfigureAwait(false)).stdout;
            }
            catch (Exception) { return null; }
        }

        static readonly System.Text.RegularExpressions.Regex RuntimeFailurePattern =
            new System.Text.RegularExpressions.Regex(@"^(OCI runtime exec failed|unable to find (user|group) )");

        static SandboxException StartFailure(string line, ExecRequest request, string containerId)
        {
            if (line.StartsWith("unable to find", StringComparison.Ordinal))
                return new SandboxException("UserNotFound", SandboxErrorKind.ObjectNotFound,
                    $"The sandbox has no user '{request.User}': {line}", request.User, "Use a uid (such as 1000) or a user that exists in the image.");
            if (line.Contains("chdir to cwd"))
                return new SandboxException("SandboxPathNotFound", SandboxErrorKind.ObjectNotFound,
                    $"The working directory '{request.WorkingDirectory}' does not exist in the sandbox.", request.WorkingDirectory, "Create it first, or choose another -WorkingDirectory.");
            if (line.Contains("executable file not found") || line.Contains("no such file or directory"))
                return new SandboxException("SandboxCommandNotFound", SandboxErrorKind.ObjectNotFound,
                    $"'{request.Argv.FirstOrDefault()}' was not found in the sandbox: {line}", request.Argv.FirstOrDefault(), "Check the program name and the sandbox image; a string -Command runs under /bin/sh -c.");
            return new SandboxException("SandboxCommandFailed", SandboxErrorKind.InvalidOperation, $"The command could not start in sandbox '{containerId}': {line}", containerId);
        }

        internal static SandboxException ExecFailure(DockerApiException e, string containerId)
        {
            var message = EngineErrors.Message(e);
            if (e.StatusCode == HttpStatusCode.NotFound)
                return SandboxGone.NotFound(containerId, e);
            if (e.StatusCode == HttpStatusCode.Conflict)
                return SandboxGone.NotRunning(containerId, e);
            return new SandboxException("SandboxCommandFailed", SandboxErrorKind.InvalidOperation, $"The engine could not run the command: {message}", containerId, null, e);
        }
    }
}
