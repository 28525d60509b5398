using System;
using System.Collections.Generic;
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
        private protected override bool AcceptsSessions => true;

        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string? Command { get; set; }

        /// <summary>
        /// What the pipeline brings when the sandbox is named on the command line: the command's stdin. In every parameter
        /// set, so that a Sandbox object, which binds to -Sandbox by its exact type first, never ends up here alone.
        /// </summary>
        [Parameter(ValueFromPipeline = true)]
        [AllowNull]
        public PSObject? InputObject { get; set; }

        const string BySession = "Session";

        /// <summary>A shell session to run the command in: its shell keeps the working directory, variables and functions between commands.</summary>
        /// <remarks>
        /// A session piped in arrives through -Sandbox instead (see <see cref="SessionToSandboxAttribute"/>): the binder tries the
        /// default set first, where its Name and Id would bind to -Name and -Id by property name.
        /// </remarks>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = BySession)]
        [ValidateNotNull]
        public SandboxSession Session { get; set; } = null!;

        static readonly string[] TargetParameters = { "Sandbox", "Id", "Name", "ProjectId", "Session" };

        /// <summary>What a command in a session cannot take: the session's shell already decides them, or they need an exec of their own.</summary>
        static readonly string[] NotForSessions = { "ArgumentList", "WorkingDirectory", "Environment", "User", "StandardInput", "StandardInputPath", "AsJob", "DockerHost", "Cluster", "NodeEndpoint", "Credential", "SshKeyPath" };

        /// <summary>The sandbox is named on the command line and objects are piped in: they are the command's stdin.</summary>
        bool _pipelineIsInput;
        /// <summary>-Session is on the command line (not piped): the command runs once, in EndProcessing when input is expected.</summary>
        bool _sessionGiven;
        PendingRun? _run;
        bool _runFailed;

        sealed class PendingRun
        {
            public Sandbox Sandbox = null!;
            public string Display = "";
            public PipelineInputFeed Feed = null!;
            public PendingWork<ExecOutcome> Work = null!;
        }

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if (Command != null && Command.Trim().Length == 0) Command = null;
            if (CommandForm.Problem(Command, ArgumentList) is { } problem) ThrowSandboxError(problem);
            _pipelineIsInput = MyInvocation.ExpectingInput && TargetParameters.Any(MyInvocation.BoundParameters.ContainsKey);
            _sessionGiven = MyInvocation.BoundParameters.ContainsKey(nameof(Session));
            if (_sessionGiven) CheckSessionParameters();
            if (_pipelineIsInput && (StandardInput != null || StandardInputPath != null))
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("Give standard input one way: objects piped in, -StandardInput 'text' or -StandardInputPath <file>, not two of them."),
                    "StandardInputConflict", ErrorCategory.InvalidArgument, null));
            PrepareJob();
        }

        string Display => Command ?? string.Join(" ", ArgumentList!);

        IList<string> Argv => Command != null ? ExecRequest.Shell(Command) : ArgumentList!.ToList();

        protected override void ProcessRecord()
        {
            if (_sessionGiven && _pipelineIsInput)
            {
                if (InputObject != null)
                    ThrowTerminatingError(new ErrorRecord(new ArgumentException("A command in a session reads no standard input, so nothing can be piped to it. Pipe the session itself ($session | Invoke-SandboxCommand 'cmd'), or run the command without -Session to feed it input."),
                        "StandardInputNotForSession", ErrorCategory.InvalidArgument, null));
                return;
            }
            var session = Session ?? (ParameterSetName == BySandbox && Sandbox.Length == 1 ? Sandbox[0].ViaSession : null);
            if (session != null && !_pipelineIsInput)
            {
                if (!_sessionGiven) CheckSessionParameters();
                RunInSession(session);
                return;
            }
            if (Job != null)
            {
                // A Sandbox piped in binds to -Sandbox and to -InputObject: the job gets it once, as the sandbox.
                Job.AddPipelineInput(_pipelineIsInput ? null : nameof(InputObject));
                return;
            }
            if (_pipelineIsInput) { FeedInput(InputObject); return; }

            List<(Sandbox Sandbox, ISandboxBackend Backend)> targets;
            try { targets = ResolveTargets(); }
            catch (SandboxException e) { WriteSandboxError(e); return; }

            foreach (var (sandbox, manager) in targets)
            {
                ExecRequest request;
                try { request = NewRequest(sandbox); }
                catch (SandboxException e) { WriteSandboxError(e); return; }
                request.Argv = Argv;

                ExecOutcome outcome;
                try
                {
                    var runner = new CommandRunner(WorkEngine(sandbox, manager));
                    outcome = RunStreaming((stdout, stderr, c) => runner.RunAsync(sandbox.Id, request, stdout, stderr, c));
                }
                catch (SandboxException e)
                {
                    WriteSandboxError(e, sandbox);
                    continue;
                }
                Report(sandbox, Display, outcome);
            }
        }

        void CheckSessionParameters()
        {
            var problems = NotForSessions.Where(MyInvocation.BoundParameters.ContainsKey).ToList();
            if (problems.Count > 0)
                ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-{string.Join(", -", problems)} cannot be used with -Session: a session's command runs in its shell, as a line typed there. Use cd, export or a redirection in the command, or run it without -Session."),
                    "ParameterNotForSession", ErrorCategory.InvalidArgument, null));
        }

        void RunInSession(SandboxSession session)
        {
            InUse(session);
            ExecOutcome outcome;
            try
            {
                outcome = RunStreaming((stdout, stderr, c) =>
                    session.RunAsync(Command!, TimeSpan.FromSeconds(TimeoutSec), PassThru ? ExecRequest.DefaultCaptureLimitChars : 0, stdout, stderr, c));
            }
            catch (SandboxException e)
            {
                WriteSandboxError(e, session);
                return;
            }
            Report(session.Sandbox, Command!, outcome);
        }

        protected override void EndProcessing()
        {
            if (Job != null) { base.EndProcessing(); return; }
            if (_sessionGiven && _pipelineIsInput) { RunInSession(Session); return; }
            if (!_pipelineIsInput || _runFailed) return;
            // Nothing was piped in after all (@() | ...): the command runs with an empty stdin, as a native command would.
            if (_run == null && !StartRun()) return;
            var run = _run!;
            _run = null;
            run.Feed.Complete();
            ExecOutcome outcome;
            try { outcome = FinishStreaming(run.Work); }
            catch (SandboxException e)
            {
                WriteSandboxError(e, run.Sandbox);
                return;
            }
            Report(run.Sandbox, Display, outcome);
        }

        /// <summary>Strings as lines (UTF-8, each ending in \n), bytes as they are, anything else as PowerShell turns it into a string.</summary>
        static byte[]? Encode(PSObject? item)
        {
            var value = item?.BaseObject;
            switch (value)
            {
                case null: return null;
                case byte b: return new[] { b };
                case byte[] bytes: return bytes;
                case string text: return StandardInputEncoding.GetBytes(text + "\n");
                default: return StandardInputEncoding.GetBytes(LanguagePrimitives.ConvertTo<string>(item) + "\n");
            }
        }

        void FeedInput(PSObject? item)
        {
            if (_runFailed) return;
            if (item?.BaseObject is SandboxSession pipedSession)
            {
                WriteError(new ErrorRecord(new ArgumentException($"Session '{pipedSession.Name}' came through the pipeline, but a sandbox is already named on the command line, so the pipeline is the command's standard input. Pipe the session without naming a sandbox, or use -Session."),
                    "SessionAsStandardInput", ErrorCategory.InvalidArgument, pipedSession));
                return;
            }
            if (item?.BaseObject is Sandbox piped)
            {
                WriteError(new ErrorRecord(new ArgumentException($"Sandbox '{piped.Name}' came through the pipeline, but the sandbox is already named on the command line, so the pipeline is the command's standard input; a Sandbox object is never written to it. Pipe the sandbox without naming one, or pipe text."),
                    "SandboxAsStandardInput", ErrorCategory.InvalidArgument, piped));
                return;
            }
            var data = Encode(item);
            if (data == null) return;
            if (_run == null && !StartRun()) return;
            // A command that stopped reading (it exited, or closed its stdin) drops the rest, as a pipe's reader would.
            Feed(_run!.Work, _run.Feed, data);
        }

        /// <summary>Starts the command with its stdin fed from the pipeline; it gets EOF in EndProcessing.</summary>
        bool StartRun()
        {
            _runFailed = true;
            List<(Sandbox Sandbox, ISandboxBackend Backend)> targets;
            try { targets = ResolveTargets(); }
            catch (SandboxException e) { WriteSandboxError(e); return false; }
            if (targets.Count == 0) return false;
            if (targets.Count > 1)
            {
                WriteError(new ErrorRecord(new ArgumentException($"Piped standard input goes to one command in one sandbox, but {targets.Count} sandboxes were named ({string.Join(", ", targets.Select(t => t.Sandbox.Name))}). Name one sandbox, or give the input with -StandardInput or -StandardInputPath, which every sandbox gets."),
                    "StandardInputNeedsOneSandbox", ErrorCategory.InvalidArgument, null));
                return false;
            }
            var (sandbox, manager) = targets[0];
            ExecRequest request;
            try { request = NewRequest(sandbox); }
            catch (SandboxException e) { WriteSandboxError(e); return false; }
            request.Argv = Argv;
            var feed = new PipelineInputFeed(WakePipeline);
            request.OpenStandardInput = () => feed;
            var runner = new CommandRunner(WorkEngine(sandbox, manager));
            _run = new PendingRun
            {
                Sandbox = sandbox,
                Display = Display,
                Feed = feed,
                Work = StartStreaming((stdout, stderr, c) => runner.RunAsync(sandbox.Id, request, stdout, stderr, c)),
            };
            _runFailed = false;
            return true;
        }

        /// <summary>The pipeline ended without EndProcessing (Ctrl+C while upstream ran, an upstream error): the command inside is stopped.</summary>
        protected override void DisposeCore()
        {
            var run = _run;
            _run = null;
            if (run == null) return;
            run.Feed.Abandon();
            Abandon(run.Work);
            if (StopRequested) SetLastExitCode(ExitCodes.Stopped);
        }
    }
}
