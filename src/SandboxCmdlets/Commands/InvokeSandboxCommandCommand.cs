using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using Sandbox.Exec;
using Sandbox.Hosting;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    [Cmdlet(VerbsLifecycle.Invoke, "SandboxCommand", DefaultParameterSetName = BySandbox)]
    [OutputType(typeof(string), typeof(SandboxCommandResult), typeof(Job))]
    public sealed class InvokeSandboxCommandCommand : SandboxTargetCmdletBase
    {
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string? Command { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? ArgumentList { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? WorkingDirectory { get; set; }

        [Parameter]
        [ValidateNotNull]
        public Hashtable? Environment { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? User { get; set; }

        [Parameter]
        [ValidateRange(0, 31_536_000)]
        public int TimeoutSec { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        [Parameter]
        public SwitchParameter AsJob { get; set; }

        SandboxJobLauncher? _job;

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            try { if (User != null) SandboxSpec.ValidateUser(User); }
            catch (SandboxException e) { ThrowSandboxError(e); }
            if (Command != null && Command.Trim().Length == 0) Command = null;
            if ((Command == null) == (ArgumentList == null))
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("Give the command as -Command 'text' (run by /bin/sh -c) or as -ArgumentList program, arg, ... (run without a shell), not both."),
                    Command == null ? "CommandRequired" : "CommandAndArgumentList", ErrorCategory.InvalidArgument, null));
            if (AsJob) _job = new SandboxJobLauncher(this);
        }

        protected override void EndProcessing()
        {
            if (_job != null) WriteObject(_job.Start());
        }

        protected override void ProcessRecord()
        {
            if (_job != null) { _job.AddPipelineInput(); return; }
            System.Collections.Generic.List<(Sandbox Sandbox, SandboxManager Manager)> targets;
            try { targets = ResolveTargets(); }
            catch (SandboxException e) { WriteSandboxError(e); return; }

            foreach (var (sandbox, manager) in targets)
            {
                var request = new ExecRequest
                {
                    Argv = Command != null ? ExecRequest.Shell(Command) : ArgumentList!.ToList(),
                    WorkingDirectory = WorkingDirectory == null ? sandbox.WorkingDirectory : Files.ContainerPath.Resolve(sandbox.WorkingDirectory, WorkingDirectory),
                    User = User,
                    Timeout = TimeSpan.FromSeconds(TimeoutSec),
                    CaptureLimitChars = PassThru ? ExecRequest.DefaultCaptureLimitChars : 0,
                };
                try { request.Environment = StringMap(Environment); }
                catch (SandboxException e) { WriteSandboxError(e); return; }

                var display = Command ?? string.Join(" ", ArgumentList!);
                ExecOutcome outcome;
                try
                {
                    var runner = new CommandRunner(manager.Engine);
                    outcome = Run(c => runner.RunAsync(sandbox.Id, request,
                        line => Post(() => WriteObject(line)),
                        line => Post(() => WriteInformation(new HostInformationMessage { Message = line }, new[] { "PSHOST", "stderr" })),
                        c));
                }
                catch (SandboxException e)
                {
                    WriteSandboxError(e, sandbox);
                    continue;
                }

                SessionState.PSVariable.Set("global:LASTEXITCODE", outcome.ExitCode);
                if (outcome.TimedOut)
                {
                    WriteError(new ErrorRecord(new TimeoutException($"'{display}' in sandbox '{sandbox.Name}' did not finish within {TimeoutSec} s and was killed."),
                        "SandboxCommandTimeout", ErrorCategory.OperationTimeout, sandbox));
                }
                else if (outcome.OomKilled)
                {
                    WriteError(new ErrorRecord(new InsufficientMemoryException($"'{display}' in sandbox '{sandbox.Name}' was killed for running out of memory (limit {Units.FormatBytes(sandbox.Limits.MemoryBytes)})."),
                        "SandboxCommandOutOfMemory", ErrorCategory.LimitsExceeded, sandbox));
                }
                else if (outcome.ExitCode != 0 && NativeErrorsAreErrors())
                {
                    WriteError(new ErrorRecord(new InvalidOperationException($"'{display}' in sandbox '{sandbox.Name}' exited with code {outcome.ExitCode}."),
                        "SandboxCommandFailed", ErrorCategory.NotSpecified, sandbox));
                }
                if (outcome.Truncated)
                    WriteWarning($"The output of '{display}' was larger than the result keeps; StdOut/StdErr of the result are truncated (the pipeline got every line).");

                if (PassThru)
                {
                    WriteObject(new SandboxCommandResult
                    {
                        SandboxName = sandbox.Name,
                        SandboxId = sandbox.Id,
                        Command = display,
                        ExitCode = outcome.ExitCode,
                        StdOut = outcome.StdOut,
                        StdErr = outcome.StdErr,
                        Duration = outcome.Duration,
                        TimedOut = outcome.TimedOut,
                        Truncated = outcome.Truncated,
                        OomKilled = outcome.OomKilled,
                    });
                }
            }
        }

        bool NativeErrorsAreErrors() => LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("PSNativeCommandUseErrorActionPreference", false));
    }
}
