using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Exec;
using Sandbox.Lifecycle;

namespace Sandbox.Sessions
{
    /// <summary>
    /// One /bin/sh inside a sandbox, started by one engine exec whose stdin stays open: each command is written to its stdin,
    /// run there with `command eval` (so cd, export and functions stay, and a syntax error does not end the shell), with
    /// stdin from /dev/null (so it cannot read the commands that follow), and followed by a marker with a fresh random
    /// nonce and the exit status on stdout and on stderr. The nonce travels only in the shell's stdin, so a command cannot
    /// print a marker it does not know. One command at a time; a second caller waits its turn.
    /// </summary>
    sealed class ShellChannel
    {
        readonly DockerEngine _engine;
        readonly string _containerId;
        readonly string _execId;
        readonly MultiplexedStream _stream;
        readonly SemaphoreSlim _turn = new SemaphoreSlim(1, 1);
        readonly object _gate = new object();
        readonly SessionFrameParser _stdout = new SessionFrameParser();
        readonly SessionFrameParser _stderr = new SessionFrameParser();
        readonly TaskCompletionSource<bool> _ended = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        PendingCommand? _current;
        string _state = SandboxSession.OpenState;
        /// <summary>How the end was decided before it came (Close, or an interrupt that had to end the shell); null: found out at the end.</summary>
        (string State, string Reason)? _decidedEnd;
        string _label = "";
        int _shellPid;

        public string State => _state;
        public string? EndReason { get; private set; }

        /// <summary>Raised once, on a thread-pool thread, when the shell has ended for any reason.</summary>
        public event Action? Ended;

        ShellChannel(DockerEngine engine, string containerId, string execId, MultiplexedStream stream)
        {
            _engine = engine; _containerId = containerId; _execId = execId; _stream = stream;
        }

        /// <summary>Starts the shell in <paramref name="sandbox"/> and learns its process id.</summary>
        public static async Task<ShellChannel> OpenAsync(DockerEngine engine, Sandbox sandbox, string label, CancellationToken cancel)
        {
            string execId;
            MultiplexedStream stream;
            try
            {
                execId = (await engine.Client.Exec.CreateContainerExecAsync(sandbox.Id, new ContainerExecCreateParameters
                {
                    Cmd = new List<string> { "/bin/sh" },
                    AttachStdin = true,
                    AttachStdout = true,
                    AttachStderr = true,
                    WorkingDir = sandbox.WorkingDirectory ?? "",
                }, cancel).ConfigureAwait(false)).ID;
                stream = await engine.Client.Exec.StartContainerExecAsync(execId, new ContainerExecStartParameters(), cancel).ConfigureAwait(false);
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { throw SandboxGone.NotFound(sandbox.Id, e); }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict) { throw SandboxGone.NotRunning(sandbox.Id, e); }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, engine.Endpoint); }

            var shell = new ShellChannel(engine, sandbox.Id, execId, stream) { _label = label };
            _ = Task.Run(shell.ReadAsync);
            string pid = "";
            var outcome = await shell.RunCoreAsync("echo $$", TimeSpan.FromSeconds(30), 0, line => pid = line, _ => { }, cancel).ConfigureAwait(false);
            if (outcome.ExitCode != 0 || !int.TryParse(pid.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out shell._shellPid))
            {
                shell.Close("it did not start");
                throw new SandboxException("SandboxSessionFailed", SandboxErrorKind.InvalidOperation,
                    $"The shell of session {label} did not start in sandbox '{sandbox.Name}' (/bin/sh answered '{pid}', exit code {outcome.ExitCode}).", sandbox.Name);
            }
            return shell;
        }

        sealed class PendingCommand
        {
            public string Tag = "";
            public LineSplitter Out = null!;
            public LineSplitter Err = null!;
            public StandardErrorTail Tail = new StandardErrorTail();
            public StringBuilder? OutText;
            public StringBuilder? ErrText;
            public int? OutStatus;
            public int? ErrStatus;
            public readonly TaskCompletionSource<int> Done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        /// <summary>Runs <paramref name="command"/> in the shell, its output lines to the callbacks as they come.</summary>
        public async Task<ExecOutcome> RunAsync(SandboxSession session, string command, TimeSpan timeout, int captureLimitChars, Action<string> onStdOut, Action<string> onStdErr, CancellationToken cancel)
        {
            _label = $"'{session.Name}' (sandbox '{session.SandboxName}')";
            return await RunCoreAsync(command, timeout, captureLimitChars, onStdOut, onStdErr, cancel).ConfigureAwait(false);
        }

        async Task<ExecOutcome> RunCoreAsync(string command, TimeSpan timeout, int captureLimitChars, Action<string> onStdOut, Action<string> onStdErr, CancellationToken cancel)
        {
            await _turn.WaitAsync(cancel).ConfigureAwait(false);
            try
            {
                ThrowIfEnded();
                var clock = Stopwatch.StartNew();
                var nonce = Nonce();
                var capture = captureLimitChars > 0;
                var pending = new PendingCommand { Tag = Nonce(), OutText = capture ? new StringBuilder() : null, ErrText = capture ? new StringBuilder() : null };
                pending.Out = new LineSplitter(onStdOut, pending.OutText, captureLimitChars);
                pending.Err = new LineSplitter(line => { pending.Tail.Add(line); onStdErr(line); }, pending.ErrText, captureLimitChars);
                lock (_gate)
                {
                    _current = pending;
                    _stdout.Begin(nonce);
                    _stderr.Begin(nonce);
                }
                var script = Encoding.UTF8.GetBytes(Wrap(command, nonce, pending.Tag));
                Exception? writeFailed = null;
                try { await _stream.WriteAsync(script, 0, script.Length, CancellationToken.None).ConfigureAwait(false); }
                catch (Exception e) { writeFailed = e; }
                if (writeFailed != null)
                {
                    // A shell that ended makes the write fail: its end, once read, says why better than the write does.
                    await Task.WhenAny(_ended.Task, Task.Delay(1000)).ConfigureAwait(false);
                    ThrowIfEnded();
                    throw DockerEngine.Translate(writeFailed, _engine.Endpoint);
                }

                var timedOut = false;
                using (var limit = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout) : new CancellationTokenSource())
                using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel, limit.Token))
                {
                    var stopped = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                    using (stop.Token.Register(() => stopped.TrySetResult(true)))
                    {
                        if (await Task.WhenAny(pending.Done.Task, _ended.Task, stopped.Task).ConfigureAwait(false) == stopped.Task && !pending.Done.Task.IsCompleted)
                        {
                            timedOut = !cancel.IsCancellationRequested;
                            await InterruptAsync(pending).ConfigureAwait(false);
                        }
                    }
                }
                if (!pending.Done.Task.IsCompleted) ThrowIfEnded();
                var status = await pending.Done.Task.ConfigureAwait(false);
                var outcome = new ExecOutcome
                {
                    ExitCode = status,
                    Duration = clock.Elapsed,
                    StdOut = pending.OutText?.ToString() ?? "",
                    StdErr = pending.ErrText?.ToString() ?? "",
                    Truncated = pending.Out.Truncated || pending.Err.Truncated,
                    StdErrTail = pending.Tail.Lines(),
                };
                if (cancel.IsCancellationRequested) throw new OperationCanceledException(cancel);
                if (timedOut)
                {
                    outcome.TimedOut = true;
                    outcome.ExitCode = ExitCodes.TimedOut;
                }
                return outcome;
            }
            finally
            {
                lock (_gate) _current = null;
                _turn.Release();
            }
        }

        /// <summary>
        /// SIGINT to the command's processes (they carry its tag; the shell does not), SIGKILL to those left after a grace;
        /// if the shell still does not finish the command (a loop in the shell itself), the shell is ended and the session
        /// with it, since nothing else can stop it.
        /// </summary>
        async Task InterruptAsync(PendingCommand pending)
        {
            var script =
                CommandRunner.ForEachTaggedProcess(pending.Tag, "kill -INT $n 2>/dev/null") + "; " +
                "i=0; while [ $i -lt 10 ]; do sleep 0.05; left=; " + CommandRunner.ForEachTaggedProcess(pending.Tag, "left=1; break") + "; " +
                "[ -z \"$left\" ] && exit 0; i=$((i+1)); done; " +
                CommandRunner.ForEachTaggedProcess(pending.Tag, "kill -KILL $n 2>/dev/null");
            var runner = new CommandRunner(_engine);
            var signalled = runner.CaptureAsync(_containerId, script);
            if (await Task.WhenAny(pending.Done.Task, _ended.Task, signalled).ConfigureAwait(false) == signalled)
                await Task.WhenAny(pending.Done.Task, _ended.Task, Task.Delay(ShellGrace)).ConfigureAwait(false);
            if (pending.Done.Task.IsCompleted || _ended.Task.IsCompleted) return;
            lock (_gate) _decidedEnd ??= (SandboxSession.BrokenState, $"the command did not stop when its processes were interrupted and killed (a loop in the shell itself), so the shell of session {_label} was ended; New-SandboxSession opens a new one");
            await runner.CaptureAsync(_containerId, $"kill -KILL {_shellPid.ToString(CultureInfo.InvariantCulture)}").ConfigureAwait(false);
            await Task.WhenAny(_ended.Task, Task.Delay(ShellGrace)).ConfigureAwait(false);
            if (!_ended.Task.IsCompleted) _stream.Dispose();
            await _ended.Task.ConfigureAwait(false);
        }

        static readonly TimeSpan ShellGrace = TimeSpan.FromMilliseconds(500);
        /// <summary>How long the end of a shell waits for the engine to say why it ended.</summary>
        static readonly TimeSpan EngineAnswerLimit = TimeSpan.FromSeconds(5);

        void ThrowIfEnded()
        {
            if (!_ended.Task.IsCompleted) return;
            var closed = _state == SandboxSession.ClosedState;
            throw new SandboxException(closed ? "SandboxSessionClosed" : "SandboxSessionBroken", SandboxErrorKind.InvalidOperation,
                $"Session {_label} is {_state.ToLowerInvariant()}: {EndReason}.", null,
                closed ? "Open another with New-SandboxSession (in a running sandbox)." : "Open a new one with New-SandboxSession; Remove-SandboxSession removes this one.");
        }

        /// <summary>The user's text, single-quoted for eval, then the marker with the exit status on both streams.</summary>
        internal static string Wrap(string command, string nonce, string tag)
        {
            var quoted = "'" + command.Replace("'", "'\\''") + "'";
            var marker = SessionFrameParser.MarkerPrefix + nonce + ":";
            return $"{CommandRunner.TagVariable}={tag} command eval {quoted} </dev/null; __sandbox_rc=$?; " +
                   $"printf '\\n{marker}%d\\n' \"$__sandbox_rc\"; printf '\\n{marker}%d\\n' \"$__sandbox_rc\" >&2\n";
        }

        static string Nonce()
        {
            var bytes = new byte[12];
            using (var random = System.Security.Cryptography.RandomNumberGenerator.Create()) random.GetBytes(bytes);
            var text = new StringBuilder(24);
            foreach (var b in bytes) text.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            return text.ToString();
        }

        async Task ReadAsync()
        {
            var buffer = new byte[81920];
            try
            {
                while (true)
                {
                    var read = await _stream.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None).ConfigureAwait(false);
                    if (read.EOF) break;
                    lock (_gate)
                    {
                        var toStdErr = read.Target == MultiplexedStream.TargetStream.StandardError;
                        var parser = toStdErr ? _stderr : _stdout;
                        var pending = _current;
                        var status = parser.Write(buffer, 0, read.Count, (bytes, offset, count) =>
                        {
                            if (pending == null) return;
                            (toStdErr ? pending.Err : pending.Out).Write(bytes, offset, count);
                        });
                        if (status == null || pending == null) continue;
                        if (toStdErr) pending.ErrStatus = status; else pending.OutStatus = status;
                        if (pending.OutStatus == null || pending.ErrStatus == null) continue;
                        pending.Out.Flush();
                        pending.Err.Flush();
                        pending.Done.TrySetResult(pending.OutStatus.Value);
                    }
                }
            }
            catch (Exception) { /* the stream broke or was disposed: the shell is gone either way, and the end says why */ }
            await EndAsync().ConfigureAwait(false);
        }

        async Task EndAsync()
        {
            string state, reason;
            (string State, string Reason)? decided;
            lock (_gate) decided = _decidedEnd;
            if (decided is { } d)
            {
                state = d.State;
                reason = d.Reason;
            }
            else if (SandboxRemover.IsRemovedHere(_containerId) || !await SandboxRunsAsync().ConfigureAwait(false))
            {
                state = SandboxSession.ClosedState;
                reason = "its sandbox ended (removed, or past its deadline), and the session closed with it";
            }
            else if (await ExitCodeAsync().ConfigureAwait(false) is var code && code == "137" && await SandboxStopsSoonAsync().ConfigureAwait(false))
            {
                state = SandboxSession.ClosedState;
                reason = "its sandbox ended (removed, or past its deadline), and the session closed with it";
            }
            else
            {
                state = SandboxSession.BrokenState;
                reason = $"the shell of session {_label} ended (exit code {code}); New-SandboxSession opens a new one";
            }
            EndReason = reason;
            _state = state;
            _ended.TrySetResult(true);
            try { _stream.Dispose(); } catch (Exception) { /* already broken */ }
            Ended?.Invoke();
        }

        async Task<bool> SandboxRunsAsync()
        {
            try
            {
                using var limit = new CancellationTokenSource(EngineAnswerLimit);
                var inspect = await _engine.Client.Containers.InspectContainerAsync(_containerId, limit.Token).ConfigureAwait(false);
                return inspect.State?.Running == true;
            }
            catch (DockerApiException) { return false; }
            catch (OperationCanceledException) { return false; /* an engine busy removing the container: it is ending */ }
            catch (Exception) { return true; /* the engine did not answer: say what is known, that the shell ended */ }
        }

        // A shell killed (137) as its sandbox stops can end before the engine reports the container stopped: watch briefly.
        async Task<bool> SandboxStopsSoonAsync()
        {
            for (var i = 0; i < 8; i++)
            {
                await Task.Delay(250).ConfigureAwait(false);
                if (SandboxRemover.IsRemovedHere(_containerId) || !await SandboxRunsAsync().ConfigureAwait(false)) return true;
            }
            return false;
        }

        async Task<string> ExitCodeAsync()
        {
            try
            {
                using var limit = new CancellationTokenSource(EngineAnswerLimit);
                var inspect = await _engine.Client.Exec.InspectContainerExecAsync(_execId, limit.Token).ConfigureAwait(false);
                return inspect.Running ? "unknown" : Convert.ToString(inspect.ExitCode, CultureInfo.InvariantCulture) ?? "unknown";
            }
            catch (Exception) { return "unknown"; }
        }

        /// <summary>Ends the shell (its stream closes, the shell reads EOF and exits); the session is Closed with <paramref name="reason"/>.</summary>
        public void Close(string reason)
        {
            if (_ended.Task.IsCompleted) return;
            lock (_gate)
            {
                _decidedEnd ??= (SandboxSession.ClosedState, reason);
                // Closed from now on, for whoever looks next: the read loop's end may come later than the caller's next line.
                EndReason = _decidedEnd.Value.Reason;
                _state = _decidedEnd.Value.State;
            }
            try { _stream.Dispose(); } catch (Exception) { /* already closed */ }
        }

        /// <summary>
        /// Closes the session when its sandbox no longer runs; false while it does. The engine does not always end an exec's
        /// stream when the container goes (its stdin stays attached), so a session past its sandbox's deadline asks.
        /// </summary>
        public async Task<bool> CloseIfSandboxEndedAsync()
        {
            if (_ended.Task.IsCompleted) return true;
            if (!SandboxRemover.IsRemovedHere(_containerId) && await SandboxRunsAsync().ConfigureAwait(false)) return false;
            Close("its sandbox ended (removed, or past its deadline), and the session closed with it");
            return true;
        }

        public Task Completion => _ended.Task;
    }
}
