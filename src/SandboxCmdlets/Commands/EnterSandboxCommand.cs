using System;
using System.Collections.Generic;
using System.Management.Automation;
using Sandbox.Lifecycle;
using Sandbox.Terminal;

namespace Sandbox.Commands
{
    /// <summary>An interactive shell in a sandbox, as Enter-PSSession or `docker exec -it`; `exit` comes back with $LASTEXITCODE.</summary>
    [Cmdlet(VerbsCommon.Enter, "Sandbox", DefaultParameterSetName = BySandbox)]
    [OutputType(typeof(void))]
    public sealed class EnterSandboxCommand : SandboxTargetCmdletBase
    {
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string[]? Shell { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? User { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? WorkingDirectory { get; set; }

        readonly List<(Sandbox Sandbox, ISandboxBackend Backend)> _targets = new List<(Sandbox, ISandboxBackend)>();

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if (RawTerminal.WhyNotInteractive() is string reason)
            {
                var record = new ErrorRecord(new PSNotSupportedException(reason), "TerminalNotInteractive", ErrorCategory.InvalidOperation, null)
                {
                    ErrorDetails = new ErrorDetails(reason) { RecommendedAction = "Use Invoke-SandboxCommand for one command, or New-SandboxSession for a shell that keeps its state between commands." },
                };
                ThrowTerminatingError(record);
            }
        }

        protected override void ProcessRecord()
        {
            try { _targets.AddRange(ResolveTargets()); }
            catch (SandboxException e) { WriteSandboxError(e); }
        }

        protected override void EndProcessing()
        {
            if (_targets.Count == 0) return;
            if (_targets.Count > 1)
            {
                WriteSandboxError("SandboxAmbiguous", ErrorCategory.InvalidArgument,
                    $"Enter-Sandbox enters one sandbox, and {_targets.Count} were given or matched.", _targets.ConvertAll(t => t.Sandbox.Name).ToArray());
                return;
            }

            var (sandbox, manager) = _targets[0];
            var request = new TerminalRequest { Shell = Shell, User = User, WorkingDirectory = WorkingDirectory };
            try
            {
                int exitCode;
                using (var terminal = RawTerminal.Enter())
                    exitCode = Run(c => new TerminalSession(WorkEngine(sandbox, manager)).RunAsync(sandbox.Id, request, terminal, c));
                SetLastExitCode(exitCode);
            }
            catch (SandboxException e) { WriteSandboxError(e, sandbox); }
            catch (System.ComponentModel.Win32Exception e) { WriteSandboxError(e, sandbox); }
        }
    }
}
