using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Languages;
using Sandbox.Lifecycle;
using Sandbox.Sessions;

namespace Sandbox
{
    /// <summary>The session's code kernels: one per language, started on first use, closed when the session closes.</summary>
    public sealed partial class SandboxSession
    {
        readonly Dictionary<string, CodeKernel> _kernels = new Dictionary<string, CodeKernel>(StringComparer.OrdinalIgnoreCase);
        readonly SemaphoreSlim _kernelStart = new SemaphoreSlim(1, 1);
        bool _kernelsClosed;
        bool _closingWatched;

        /// <summary>
        /// The running kernel for <paramref name="language"/>; one that ended (killed after ignoring an interrupt, or its
        /// interpreter exited) is replaced, and <paramref name="restarted"/> then says the old state is gone.
        /// </summary>
        internal async Task<(CodeKernel Kernel, bool Restarted)> KernelAsync(LanguageDefinition language, CancellationToken cancel)
        {
            await _kernelStart.WaitAsync(cancel).ConfigureAwait(false);
            try
            {
                if (!_closingWatched)
                {
                    Closing += CloseKernels;
                    _closingWatched = true;
                }
                if (_kernelsClosed || State != OpenState) throw Closed();
                var restarted = false;
                CodeKernel? kernel;
                lock (_kernels)
                {
                    if (_kernels.TryGetValue(language.Name, out kernel))
                    {
                        if (kernel.IsAlive) return (kernel, false);
                        kernel.Dispose();
                        _kernels.Remove(language.Name);
                        restarted = true;
                    }
                }
                var interpreter = language.RunCommand.Length > 0 ? language.RunCommand[0] : language.Name;
                kernel = await CodeKernel.StartAsync(Engine, Sandbox.Id, language.Name, interpreter, null, Sandbox.WorkingDirectory, cancel).ConfigureAwait(false);
                lock (_kernels)
                {
                    if (_kernelsClosed)
                    {
                        kernel.Dispose();
                        throw Closed();
                    }
                    _kernels[language.Name] = kernel;
                }
                return (kernel, restarted);
            }
            finally { _kernelStart.Release(); }
        }

        /// <summary>The error for code sent to a session that has closed (removed, its shell or its sandbox ended).</summary>
        internal SandboxException Closed() => new SandboxException(State == BrokenState ? "SandboxSessionBroken" : "SandboxSessionClosed", SandboxErrorKind.InvalidOperation,
            $"Session '{Name}' is {State.ToLowerInvariant()}" + (Reason != null ? $": {Reason}" : "") + "; it runs no more code.", Name,
            State == BrokenState ? "Open a new one with New-SandboxSession; Remove-SandboxSession removes this one." : "Open another with New-SandboxSession (in a running sandbox).");

        void CloseKernels()
        {
            // Closing is raised from whatever ended the session; it must not wait for a kernel start in progress.
            lock (_kernels)
            {
                _kernelsClosed = true;
                foreach (var kernel in _kernels.Values) kernel.Dispose();
                _kernels.Clear();
            }
        }
    }
}
