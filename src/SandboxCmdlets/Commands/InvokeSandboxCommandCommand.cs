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
            if (CommandForm.Problem(Command, ArgumentList) is { } problem) ThrowSandboxError(problem);
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
