using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
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
    /// One interpreter kept running in a sandbox over ONE engine exec (stdin/stdout/stderr attached, no TTY), running
    /// code in the same globals call after call. The driver (<see cref="KernelDrivers"/>) speaks <see cref="KernelFrames"/>
    /// on the exec's stdout; the exec's stderr carries anything not framed (the interpreter failing to start, a raw write
    /// to fd 1 in Node) and goes to the run's stderr. A timeout is enforced by the driver itself (SIGALRM in Python, vm's
    /// timeout in Node), so it costs no engine call; Ctrl+C, or a driver that misses its own timeout, is SIGINT from a
    /// separate exec, then SIGKILL if the code ignores it, after which the kernel is gone and says so.
    /// </summary>
    public sealed class CodeKernel : IDisposable
    {
        static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(30);
        static readonly TimeSpan InterruptGrace = TimeSpan.FromSeconds(2);

        readonly DockerEngine _engine;
        readonly string _containerId;
        readonly string? _user;
        readonly MultiplexedStream _stream;
        readonly KernelFrameReader _frames;
        readonly LineSplitter _unframed;
        readonly SemaphoreSlim _oneAtATime = new SemaphoreSlim(1, 1);
        readonly TaskCompletionSource<int> _ready = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly TaskCompletionSource<bool> _ended = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly List<string> _startupErrors = new List<string>();
        volatile Run? _current;
        int _pid;

        public string Language { get; }
        public bool IsAlive => !_ended.Task.IsCompleted;

        CodeKernel(DockerEngine engine, string containerId, string language, string? user, MultiplexedStream stream)
        {
            _engine = engine; _containerId = containerId; Language = language; _user = user; _stream = stream;
            _frames = new KernelFrameReader(OnFrame);
            _unframed = new LineSplitter(line =>
            {
                var run = _current;
                if (run != null) run.StdErrLine(line);
                else lock (_startupErrors) _startupErrors.Add(line);
            });
        }

        /// <summary>Starts <paramref name="language"/>'s driver with <paramref name="interpreter"/> and waits until it is ready.</summary>
        public static async Task<CodeKernel> StartAsync(DockerEngine engine, string containerId, string language, string interpreter,
            string? user, string? workingDirectory, CancellationToken cancel)
        {
            var argv = KernelDrivers.Argv(language, interpreter);
            MultiplexedStream stream;
            try
            {
                var exec = await engine.Client.Exec.CreateContainerExecAsync(containerId, new ContainerExecCreateParameters
                {
                    Cmd = argv, AttachStdin = true, AttachStdout = true, AttachStderr = true,
                    User = user ?? "", WorkingDir = workingDirectory ?? "",
                    Env = new List<string> { "PYTHONUNBUFFERED=1", "PYTHONIOENCODING=utf-8" },
                }, cancel).ConfigureAwait(false);
                stream = await engine.Client.Exec.StartContainerExecAsync(exec.ID, new ContainerExecStartParameters(), cancel).ConfigureAwait(false);
            }
            catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound) { throw SandboxGone.NotFound(containerId, e); }
            catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.Conflict) { throw SandboxGone.NotRunning(containerId, e); }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, engine.Endpoint); }

            var kernel = new CodeKernel(engine, containerId, language, user, stream);
            _ = kernel.PumpAsync();
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            limit.CancelAfter(StartLimit);
            var gaveUp = Task.Delay(Timeout.Infinite, limit.Token);
            var first = await Task.WhenAny(kernel._ready.Task, kernel._ended.Task, gaveUp).ConfigureAwait(false);
            if (first == kernel._ready.Task)
            {
                kernel._pid = kernel._ready.Task.Result;
                return kernel;
            }
            kernel.Dispose();
            cancel.ThrowIfCancellationRequested();
            string said;
            lock (kernel._startupErrors) said = string.Join(Environment.NewLine, kernel._startupErrors);
            throw new SandboxException("KernelStartFailed", SandboxErrorKind.InvalidOperation,
                first == gaveUp
                    ? $"The {language} kernel did not start within {StartLimit.TotalSeconds} s in sandbox '{containerId}'."
                    : $"The {language} kernel could not start in sandbox '{containerId}' with '{interpreter}'" + (said.Length > 0 ? $": {said}" : "."),
                containerId, $"Check that the image has '{interpreter}' (python3, or node 18 or later).");
        }

        Task PumpAsync() => Task.Run(async () =>
        {
            var buffer = new byte[81920];
            try
            {
                while (true)
                {
                    var read = await _stream.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None).ConfigureAwait(false);
                    if (read.EOF) break;
                    if (read.Target == MultiplexedStream.TargetStream.StandardError) _unframed.Write(buffer, 0, read.Count);
                    else _frames.Write(buffer, 0, read.Count);
                }
            }
            catch (Exception) { /* the stream was disposed or the engine went away: either way the kernel has ended */ }
            _unframed.Flush();
            _ended.TrySetResult(true);
            _current?.Finished.TrySetResult(false);
        });

        void OnFrame(byte kind, byte[] payload, int offset, int count)
        {
            var run = _current;
            switch (kind)
            {
                case KernelFrames.Ready:
                    _ready.TrySetResult(int.Parse(Encoding.ASCII.GetString(payload, offset, count), CultureInfo.InvariantCulture));
                    break;
                case KernelFrames.Out:
                    run?.StdOut.Write(payload, offset, count);
                    break;
                case KernelFrames.Err:
                    run?.StdErrBytes.Write(payload, offset, count);
                    break;
                case KernelFrames.Done:
                    if (run == null) break;
                    run.Status = KernelFrames.ParseDone(payload, offset, count, out var text);
                    run.Error = text;
                    run.Finished.TrySetResult(true);
                    break;
            }
        }

        /// <summary>
        /// Runs <paramref name="code"/>, its stdout and stderr lines handed over as they come. A <paramref name="timeout"/>
        /// that runs out interrupts the code (exit code 124); <paramref name="cancel"/> interrupts it and throws
        /// OperationCanceledException. Up to <paramref name="captureLimitChars"/> of each stream is kept for the outcome (0: none). Either way the kernel keeps its state unless it had to be killed.
        /// </summary>
        public async Task<KernelOutcome> RunAsync(string code, TimeSpan timeout, int captureLimitChars, Action<string> onStdOut, Action<string> onStdErr, CancellationToken cancel)
        {
            await _oneAtATime.WaitAsync(cancel).ConfigureAwait(false);
            try
            {
                if (!IsAlive) throw Gone();
                var clock = Stopwatch.StartNew();
                var tail = new StandardErrorTail();
                var run = new Run(captureLimitChars, onStdOut, line => { tail.Add(line); onStdErr(line); });
                _current = run;
                try
                {
                    var request = KernelFrames.ExecuteRequest(code, timeout);
                    try { await _stream.WriteAsync(request, 0, request.Length, cancel).ConfigureAwait(false); }
                    catch (Exception e) when (!(e is OperationCanceledException)) { throw Gone(); }

                    var killed = false;
                    var interruptedByUs = false;
                    if (!await FinishedWithin(run, timeout > TimeSpan.Zero ? timeout + InterruptGrace : Timeout.InfiniteTimeSpan, cancel).ConfigureAwait(false))
                    {
                        interruptedByUs = true;
                        await SignalAsync("INT").ConfigureAwait(false);
                        if (!await FinishedWithin(run, InterruptGrace, CancellationToken.None).ConfigureAwait(false))
                        {
                            await SignalAsync("KILL").ConfigureAwait(false);
                            Dispose();
                            killed = true;
                        }
                    }
                    if (!killed && !run.Finished.Task.Result) throw Gone();
                    run.Flush();
                    if (cancel.IsCancellationRequested) throw new OperationCanceledException(cancel);

                    var timedOut = killed || interruptedByUs || run.Status == KernelStatus.Interrupted;
                    return new KernelOutcome
                    {
                        Status = killed ? KernelStatus.Interrupted : run.Status,
                        Error = run.Status == KernelStatus.Raised ? run.Error : "",
                        KernelKilled = killed,
                        Outcome = new ExecOutcome
                        {
                            ExitCode = timedOut ? ExitCodes.TimedOut : run.Status == KernelStatus.Raised ? 1 : 0,
                            TimedOut = timedOut,
                            Duration = clock.Elapsed,
                            StdOut = run.StdOutText.ToString(),
                            StdErr = run.StdErrText.ToString(),
                            StdErrTail = tail.Lines(),
                            Truncated = run.StdOut.Truncated || run.StdErrBytes.Truncated,
                        },
                    };
                }
                finally { _current = null; }
            }
            finally { _oneAtATime.Release(); }
        }

        /// <summary>Waits for the run's Done (or the kernel's end); false when <paramref name="limit"/> or <paramref name="cancel"/> came first.</summary>
        static async Task<bool> FinishedWithin(Run run, TimeSpan limit, CancellationToken cancel)
        {
            if (run.Finished.Task.IsCompleted) return true;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            if (limit != Timeout.InfiniteTimeSpan) stop.CancelAfter(limit);
            var wait = Task.Delay(Timeout.Infinite, stop.Token);
            return await Task.WhenAny(run.Finished.Task, wait).ConfigureAwait(false) == run.Finished.Task;
        }

        /// <summary>The engine cannot signal an exec's process, so a second exec does, by the pid the driver reported.</summary>
        Task SignalAsync(string signal) =>
            new CommandRunner(_engine).CaptureAsync(_containerId, $"kill -{signal} {_pid.ToString(CultureInfo.InvariantCulture)}", _user);

        SandboxException Gone()
        {
            string said;
            lock (_startupErrors) said = string.Join(" ", _startupErrors);
            return new SandboxException("KernelEnded", SandboxErrorKind.InvalidOperation,
                $"The {Language} kernel in sandbox {ShortId} has ended (its process exited or was killed); its variables are gone." + (said.Length > 0 ? $" It said: {said}" : ""),
                _containerId, "Run the code again: the session starts a new kernel.");
        }

        string ShortId => _containerId.Length > 12 ? _containerId.Substring(0, 12) : _containerId;

        public void Dispose()
        {
            // Closing stdin ends the driver's read loop, so the interpreter exits by itself.
            try { _stream.CloseWrite(); } catch (Exception) { /* already closed or the engine went away */ }
            _stream.Dispose();
        }

        sealed class Run
        {
            public readonly TaskCompletionSource<bool> Finished = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            public readonly StringBuilder StdOutText = new StringBuilder();
            public readonly StringBuilder StdErrText = new StringBuilder();
            public readonly LineSplitter StdOut;
            public readonly LineSplitter StdErrBytes;
            public readonly Action<string> StdErrLine;
            public KernelStatus Status;
            public string Error = "";

            public Run(int captureLimitChars, Action<string> onStdOut, Action<string> onStdErr)
            {
                StdOut = new LineSplitter(onStdOut, captureLimitChars > 0 ? StdOutText : null, captureLimitChars);
                StdErrBytes = new LineSplitter(onStdErr, captureLimitChars > 0 ? StdErrText : null, captureLimitChars);
                StdErrLine = onStdErr;
            }

            public void Flush() { StdOut.Flush(); StdErrBytes.Flush(); }
        }
    }
}
