using System;
using System.Collections;
using System.IO;
using System.Text;
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
        public SwitchParameter ErrorOnExitCode { get; set; }

        [Parameter]
        [AllowEmptyString]
        [AllowEmptyCollection]
        [ValidateNotNull]
        public string[]? StandardInput { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? StandardInputPath { get; set; }

        [Parameter]
        public SwitchParameter AsJob { get; set; }

        /// <summary>Set in BeginProcessing with -AsJob: ProcessRecord and EndProcessing then only collect and start the job.</summary>
        private protected SandboxJobLauncher? Job { get; private set; }

        StandardErrorWriter _stderr = null!;
        string? _standardInputFile;

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            _stderr = StandardErrorWriter.For(this, line => WriteInformation(new HostInformationMessage { Message = line }, new[] { "PSHOST", "stderr" }));
            try
            {
                if (User != null) SandboxSpec.ValidateUser(User);
                if (StandardInput != null && StandardInputPath != null)
                    throw new SandboxException("StandardInputConflict", SandboxErrorKind.InvalidArgument,
                        "Give standard input one way: -StandardInput 'text' or -StandardInputPath <file>, not both.", null);
                if (StandardInputPath != null) _standardInputFile = ResolveStandardInputFile(StandardInputPath);
            }
            catch (SandboxException e) { ThrowSandboxError(e); }
        }

        string ResolveStandardInputFile(string path)
        {
            var file = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
            if (!File.Exists(file))
                throw new SandboxException("PathNotFound", SandboxErrorKind.ObjectNotFound,
                    Directory.Exists(file) ? $"'{path}' is a folder; -StandardInputPath takes a file." : $"File '{path}' for -StandardInputPath does not exist.", path);
            try { using (File.OpenRead(file)) { } }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new SandboxException("PathNotReadable", SandboxErrorKind.PermissionDenied, $"File '{path}' for -StandardInputPath cannot be read: {e.Message}", path, null, e);
            }
            return file;
        }

        /// <summary>Standard input as the parameters give it: the lines of -StandardInput, or the bytes of -StandardInputPath.</summary>
        Func<Stream>? StandardInputFromParameters()
        {
            if (_standardInputFile != null)
            {
                var file = _standardInputFile;
                return () => new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 65536, useAsync: true);
            }
            if (StandardInput != null)
            {
                var text = new StringBuilder();
                foreach (var line in StandardInput) text.Append(line).Append('\n');
                var bytes = StandardInputEncoding.GetBytes(text.ToString());
                return () => new MemoryStream(bytes, writable: false);
            }
            return null;
        }

        /// <summary>UTF-8 without a byte order mark, whatever $OutputEncoding says: what programs in a Linux sandbox read.</summary>
        protected static readonly Encoding StandardInputEncoding = new UTF8Encoding(false);

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
            OpenStandardInput = StandardInputFromParameters(),
        };

        /// <summary>
        /// Runs <paramref name="run"/>, its stdout lines to the pipeline and its stderr lines where PowerShell puts a native
        /// command's (see <see cref="StandardErrorWriter"/>) as they come. A run that PowerShell stops still sets $LASTEXITCODE.
        /// </summary>
        protected ExecOutcome RunStreaming(Func<Action<string>, Action<string>, CancellationToken, Task<ExecOutcome>> run) =>
            WhileRunning(() => Run(c => run(StdOutToPipeline, StdErrToPipeline, c)));

        /// <summary>As <see cref="RunStreaming"/>, but started now and finished later with <see cref="FinishStreaming"/>, pumping in between.</summary>
        private protected PendingWork<ExecOutcome> StartStreaming(Func<Action<string>, Action<string>, CancellationToken, Task<ExecOutcome>> run) =>
            Start(c => run(StdOutToPipeline, StdErrToPipeline, c));

        private protected ExecOutcome FinishStreaming(PendingWork<ExecOutcome> work) => WhileRunning(() => Finish(work));

        /// <summary>Hands <paramref name="data"/> to the command's stdin, running its output meanwhile; false once the command no longer reads.</summary>
        private protected bool Feed(PendingWork<ExecOutcome> work, PipelineInputFeed feed, byte[] data) => WhileRunning(() =>
        {
            var taken = true;
            while (!feed.TryWrite(data))
            {
                if (PumpOne(work)) continue;
                feed.Abandon();
                taken = false;
                break;
            }
            PumpQueued(work);
            return taken && !work.HasEnded;
        });

        /// <summary>Tells the feed's writer, on the pipeline thread, that there is room again.</summary>
        private protected Action WakePipeline => () => Post(() => { });

        void StdOutToPipeline(string line) => Post(() => WriteObject(line));
        void StdErrToPipeline(string line) => Post(() => _stderr.Write(line));

        T WhileRunning<T>(Func<T> run)
        {
            try { return run(); }
            catch (Exception e) when (e is PipelineStoppedException || e is FlowControlException)
            {
                SetLastExitCode(StopRequested ? ExitCodes.Stopped : ExitCodes.ReaderGone);
                throw;
            }
        }

        /// <summary>$LASTEXITCODE, the errors a timeout, an OOM kill or (when asked) a failure make, and the -PassThru result.</summary>
        /// <param name="stoppedHow">What a timeout did to the command, for its message.</param>
        protected void Report(Sandbox sandbox, string display, ExecOutcome outcome, string stoppedHow = "was killed")
        {
            SetLastExitCode(outcome.ExitCode);
            if (outcome.TimedOut)
            {
                WriteError(new ErrorRecord(new TimeoutException($"'{display}' in sandbox '{sandbox.Name}' did not finish within {TimeoutSec} s and {stoppedHow}."),
                    "SandboxCommandTimeout", ErrorCategory.OperationTimeout, sandbox));
            }
            else if (outcome.OomKilled)
            {
                WriteError(new ErrorRecord(new InsufficientMemoryException($"'{display}' in sandbox '{sandbox.Name}' was killed for running out of memory (limit {Units.FormatBytes(sandbox.Limits.MemoryBytes)})."),
                    "SandboxCommandOutOfMemory", ErrorCategory.LimitsExceeded, sandbox));
            }
            else if (outcome.ExitCode != 0 && (ErrorOnExitCode || NativeErrorsAreErrors()))
            {
                WriteError(new ErrorRecord(new SandboxCommandFailedException(display, sandbox.Name, outcome.ExitCode, outcome.StdErrTail),
                    "SandboxCommandFailed", ErrorCategory.InvalidResult, sandbox));
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
