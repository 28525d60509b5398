using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Exec;
using Sandbox.Lifecycle;

namespace Sandbox.Terminal
{
    /// <summary>
    /// An interactive shell in a sandbox, as `docker exec -it` runs it: one exec with a TTY and stdin attached, keys from the
    /// raw terminal in, the TTY's bytes out unchanged, and the window's size passed on whenever it changes.
    /// </summary>
    public sealed class TerminalSession
    {
        readonly DockerEngine _engine;

        public TerminalSession(DockerEngine engine) => _engine = engine;

        /// <summary>Runs until the shell exits and returns its exit code.</summary>
        public async Task<int> RunAsync(string containerId, TerminalRequest request, RawTerminal terminal, CancellationToken cancel)
        {
            var create = new ContainerExecCreateParameters
            {
                Cmd = request.Shell ?? TerminalRequest.DefaultShell,
                AttachStdin = true,
                AttachStdout = true,
                AttachStderr = true,
                TTY = true,
                // What `docker exec -t` sets: the sandbox has terminfo for xterm more often than for the local $TERM.
                Env = new List<string> { "TERM=xterm" },
                User = request.User ?? "",
                WorkingDir = request.WorkingDirectory ?? "",
            };

            string execId;
            MultiplexedStream stream;
            try
            {
                execId = (await _engine.Client.Exec.CreateContainerExecAsync(containerId, create, cancel).ConfigureAwait(false)).ID;
                stream = await _engine.Client.Exec.StartContainerExecAsync(execId, new ContainerExecStartParameters { TTY = true }, cancel).ConfigureAwait(false);
            }
            catch (DockerApiException e) { throw CommandRunner.ExecFailure(e, containerId); }
            catch (Exception e) { throw DockerEngine.Translate(e, _engine.Endpoint); }

            using (stream)
            using (cancel.Register(() => stream.Dispose()))
            {
                var resizes = new ResizeRelay(size => ResizeAsync(execId, size));
                Action onResize = () => resizes.Request(terminal.Size);
                terminal.Resized += onResize;
                try
                {
                    // Right after the start, as `docker exec -t` does: the exec's own ConsoleSize needs API 1.42, and the shell
                    // redraws at a SIGWINCH anyway. A command typed at once may still see the size as 0x0.
                    resizes.Request(terminal.Size);
                    var keys = Task.Factory.StartNew(() => CopyKeys(terminal, stream), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                    try { await CopyOutputAsync(stream, terminal).ConfigureAwait(false); }
                    catch (Exception) when (cancel.IsCancellationRequested) { }
                    catch (Exception e) { throw DockerEngine.Translate(e, _engine.Endpoint); }
                    finally
                    {
                        terminal.Wake();
                        await keys.ConfigureAwait(false);
                    }
                }
                finally { terminal.Resized -= onResize; }
                await resizes.IdleAsync().ConfigureAwait(false);
            }
            cancel.ThrowIfCancellationRequested();

            ContainerExecInspectResponse inspect;
            try { inspect = await _engine.Client.Exec.InspectContainerExecAsync(execId, CancellationToken.None).ConfigureAwait(false); }
            catch (DockerApiException e) { throw CommandRunner.ExecFailure(e, containerId); }
            catch (Exception e) { throw DockerEngine.Translate(e, _engine.Endpoint); }
            if (inspect.Running)
                throw new SandboxException("SandboxTerminalLost", SandboxErrorKind.ConnectionError,
                    $"The connection to the terminal in sandbox '{containerId}' ended while its shell still runs.", containerId);
            return (int)(inspect.ExitCode ?? -1);
        }

        static async Task CopyOutputAsync(MultiplexedStream stream, RawTerminal terminal)
        {
            var buffer = new byte[32768];
            while (true)
            {
                var read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, CancellationToken.None).ConfigureAwait(false);
                if (read.EOF) return;
                terminal.Write(buffer, read.Count);
            }
        }

        /// <summary>On its own thread: the terminal's read blocks until a key comes or the session ends.</summary>
        static void CopyKeys(RawTerminal terminal, MultiplexedStream stream)
        {
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    var read = terminal.Read(buffer);
                    if (read == 0) return;
                    stream.WriteAsync(buffer, 0, read, CancellationToken.None).GetAwaiter().GetResult();
                }
            }
            catch (Exception) { /* the shell ended or the connection broke: the output side reports it */ }
        }

        async Task ResizeAsync(string execId, (int Columns, int Rows) size)
        {
            if (size.Columns <= 0 || size.Rows <= 0) return;
            try
            {
                await _engine.Client.Exec.ResizeExecTtyAsync(execId,
                    new ContainerResizeParameters { Width = size.Columns, Height = size.Rows }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception) { /* the exec has ended; the size no longer matters */ }
        }
    }
}
