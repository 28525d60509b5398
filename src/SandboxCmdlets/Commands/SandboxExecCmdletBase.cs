using System;
using System.Collections;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Exec;
using Sandbox.Hosting;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    /// <summary>
    /// What Invoke-SandboxCommand and Invoke-SandboxCode share: the parameters of one run in a sandbox, its output
    /// streamed to the pipeline and the information stream, and its exit code, errors and -PassThru result.
    /// </summary>
    public abstract class SandboxExecCmdletBase : SandboxTargetCmdletBase
    {
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

        /// <summary>Set in BeginProcessing with -AsJob: ProcessRecord and EndProcessing then only collect and start the job.</summary>
        private protected SandboxJobLauncher? Job { get; private set; }

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            try { if (User != null) SandboxSpec.ValidateUser(User); }
            catch (SandboxException e) { ThrowSandboxError(e); }
        }

        /// <summary>Call at the end of a subclass's BeginProcessing, once its own parameters are checked.</summary>
        protected void PrepareJob()
        {
            if (AsJob) Job = new SandboxJobLauncher(this);
        }

        protected override void EndProcessing()
        {
            if (Job != null) WriteObject(Job.Start());
        }

        /// <summary>The run's settings for <paramref name="sandbox"/>; the caller sets Argv. Throws SandboxException for a bad -Environment.</summary>
        protected ExecRequest NewRequest(Sandbox sandbox) => new ExecRequest
        {
            WorkingDirectory = WorkingDirectory == null ? sandbox.WorkingDirectory : Files.ContainerPath.Resolve(sandbox.WorkingDirectory, WorkingDirectory),
            User = User,
            Timeout = TimeSpan.FromSeconds(TimeoutSec),
            CaptureLimitChars = PassThru ? ExecRequest.DefaultCaptureLimitChars : 0,
            Environment = StringMap(Environment),
        };

        /// <summary>Runs <paramref name="run"/>, its stdout lines to the pipeline and its stderr lines to the information stream as they come.</summary>
        protected ExecOutcome RunStreaming(Func<Action<string>, Action<string>, CancellationToken, Task<ExecOutcome>> run) =>
            Run(c => run(
                line => Post(() => WriteObject(line)),
                line => Post(() => WriteInformation(new HostInformationMessage { Message = line }, new[] { "PSHOST", "stderr" })),
                c));

        /// <summary>$LASTEXITCODE, the errors a timeout, an OOM kill or (when asked) a failure make, and the -PassThru result.</summary>
        protected void Report(Sandbox sandbox, string display, ExecOutcome outcome)
        {
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

        bool NativeErrorsAreErrors() => LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("PSNativeCommandUseErrorActionPreference", false));
    }
}
