using System;
using System.Linq;
using System.Management.Automation;
using Sandbox.Exec;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    [Cmdlet(VerbsLifecycle.Invoke, "SandboxCommand", DefaultParameterSetName = BySandbox)]
    [OutputType(typeof(string), typeof(SandboxCommandResult), typeof(Job))]
    public sealed class InvokeSandboxCommandCommand : SandboxExecCmdletBase
    {
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string? Command { get; set; }

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if (Command != null && Command.Trim().Length == 0) Command = null;
            if ((Command == null) == (ArgumentList == null))
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("Give the command as -Command 'text' (run by /bin/sh -c) or as -ArgumentList program, arg, ... (run without a shell), not both."),
                    Command == null ? "CommandRequired" : "CommandAndArgumentList", ErrorCategory.InvalidArgument, null));
            PrepareJob();
        }

        protected override void ProcessRecord()
        {
            if (Job != null) { Job.AddPipelineInput(); return; }
            System.Collections.Generic.List<(Sandbox Sandbox, SandboxManager Manager)> targets;
            try { targets = ResolveTargets(); }
            catch (SandboxException e) { WriteSandboxError(e); return; }

            foreach (var (sandbox, manager) in targets)
            {
                ExecRequest request;
                try { request = NewRequest(sandbox); }
                catch (SandboxException e) { WriteSandboxError(e); return; }
                request.Argv = Command != null ? ExecRequest.Shell(Command) : ArgumentList!.ToList();

                var display = Command ?? string.Join(" ", ArgumentList!);
                ExecOutcome outcome;
                try
                {
                    var runner = new CommandRunner(manager.Engine);
                    outcome = RunStreaming((stdout, stderr, c) => runner.RunAsync(sandbox.Id, request, stdout, stderr, c));
                }
                catch (SandboxException e)
                {
                    WriteSandboxError(e, sandbox);
                    continue;
                }
                Report(sandbox, display, outcome);
            }
        }
    }
}
