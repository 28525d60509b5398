using System;
using System.IO;
using System.Management.Automation;
using System.Text;
using System.Threading;
using Sandbox.Completion;
using Sandbox.Exec;
using Sandbox.Languages;
using Sandbox.Lifecycle;
using Sandbox.Sessions;

namespace Sandbox.Commands
{
    /// <summary>Runs a piece of code, or a local script file, in a sandbox with the interpreter of its language.</summary>
    [Cmdlet(VerbsLifecycle.Invoke, "SandboxCode", DefaultParameterSetName = ThrowawaySandbox)]
    [OutputType(typeof(string), typeof(SandboxCommandResult), typeof(Job))]
    public sealed class InvokeSandboxCodeCommand : SandboxExecCmdletBase
    {
        const string ThrowawaySandbox = "Image";
        const string BySession = "Session";

        private protected override bool AcceptsSessions => true;

        /// <summary>A session whose code kernel runs the code, keeping its variables for the next call.</summary>
        /// <remarks>A session piped in arrives through -Sandbox instead (see <see cref="SessionToSandboxAttribute"/>).</remarks>
        [Parameter(Mandatory = true, ParameterSetName = BySession)]
        [ValidateNotNull]
        public SandboxSession Session { get; set; } = null!;

        [Parameter(Position = 0)]
        [ValidateNotNull]
        public string? Code { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(LanguageCompleter))]
        public string? Language { get; set; }

        [Parameter(ParameterSetName = ThrowawaySandbox)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageCompleter))]
        public string? Image { get; set; }

        /// <summary>The container runtime of the throwaway sandbox, such as runsc (gVisor); see New-Sandbox -Runtime.</summary>
        [Parameter(ParameterSetName = ThrowawaySandbox)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(RuntimeCompleter))]
        public string? Runtime { get; set; }

        LanguageDefinition _language = null!;
        byte[] _code = null!;
        string _source = "";

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if ((Code == null) == (Path == null))
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("Give the code as -Code 'text' or as -Path to a local script file, not both."),
                    Code == null ? "CodeRequired" : "CodeAndPath", ErrorCategory.InvalidArgument, null));
            try
            {
                if (Path != null) ReadScriptFile(Path);
                else
                {
                    if (Language == null)
                        throw new SandboxException("LanguageRequired", SandboxErrorKind.InvalidArgument,
                            $"Say which language the code is in with -Language. Known languages: {LanguageTable.KnownNames()}.", null);
                    _code = new UTF8Encoding(false).GetBytes(Code!);
                    _source = "<code>";
                }
                if (Language != null) _language = LanguageTable.Get(Language);
                if (Image != null) ImageReference.Validate(Image);
                if (Runtime != null) EngineRuntimes.Validate(Runtime.Trim());
                if (MyInvocation.BoundParameters.ContainsKey(nameof(Session))) CheckSessionParameters();
            }
            catch (SandboxException e) { ThrowSandboxError(e); }
            PrepareJob();
        }

        /// <summary>A kernel is one long-lived process: what a single run would set up for itself has no place in it.</summary>
        void CheckSessionParameters()
        {
            if (!KernelDrivers.Supports(_language.Name))
                throw new SandboxException("KernelLanguageNotSupported", SandboxErrorKind.InvalidArgument,
                    $"A session keeps code state for python and node only, not for '{_language.Name}'.", _language.Name,
                    "Run this language without -Session (each call then starts afresh), or use python or node.");
            var given = new[] { nameof(ArgumentList), nameof(WorkingDirectory), nameof(Environment), nameof(User), nameof(StandardInput), nameof(StandardInputPath), nameof(AsJob), nameof(DockerHost), nameof(Cluster), nameof(NodeEndpoint), nameof(Credential), nameof(SshKeyPath) };
            foreach (var name in given)
                if (MyInvocation.BoundParameters.ContainsKey(name))
                    throw new SandboxException("ParameterNotForSession", SandboxErrorKind.InvalidArgument,
                        $"-{name} does not apply to code run in a session's kernel, which keeps one process, directory and environment across calls.", name,
                        "Set it in the code itself (os.chdir, os.environ, process.chdir ...), or run without -Session.");
        }

        void ReadScriptFile(string path)
        {
            var file = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
            if (!File.Exists(file))
                throw new SandboxException("PathNotFound", SandboxErrorKind.ObjectNotFound,
                    Directory.Exists(file) ? $"'{path}' is a folder; -Path takes a script file." : $"Script file '{path}' does not exist.", path);
            if (Language == null)
            {
                var extension = System.IO.Path.GetExtension(file);
                _language = LanguageTable.FindByExtension(extension) ?? throw new SandboxException("UnknownLanguage", SandboxErrorKind.InvalidArgument,
                    $"No language has the extension '{extension}' of '{path}'. Say which language it is in with -Language; known languages: {LanguageTable.KnownNames()}.", path,
                    "Use -Language, or add the language with Register-SandboxLanguage.");
            }
            try { _code = File.ReadAllBytes(file); }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new SandboxException("PathNotReadable", SandboxErrorKind.PermissionDenied, $"Script file '{path}' cannot be read: {e.Message}", path, null, e);
            }
            _source = System.IO.Path.GetFileName(file);
        }

        protected override void ProcessRecord()
        {
            var session = Session ?? (ParameterSetName == BySandbox && Sandbox.Length == 1 ? Sandbox[0].ViaSession : null);
            if (session != null)
            {
                if (MyInvocation.ExpectingInput)
                {
                    try { CheckSessionParameters(); }
                    catch (SandboxException e) { ThrowSandboxError(e); }
                }
                RunInSession(session);
                return;
            }
            if (Job != null) { Job.AddPipelineInput(); return; }
            if (ParameterSetName == ThrowawaySandbox) { RunInThrowawaySandbox(); return; }

            System.Collections.Generic.List<(Sandbox Sandbox, ISandboxBackend Backend)> targets;
            try { targets = ResolveTargets(); }
            catch (SandboxException e) { WriteSandboxError(e); return; }
            foreach (var (sandbox, manager) in targets) RunIn(sandbox, manager, removeCodeFile: true);
        }

        void RunIn(Sandbox sandbox, ISandboxBackend manager, bool removeCodeFile)
        {
            ExecRequest request;
            try { request = NewRequest(sandbox); }
            catch (SandboxException e) { WriteSandboxError(e); return; }

            var display = string.Join(" ", CodeRunner.BuildArgv(_language, _source, ArgumentList));
            ExecOutcome outcome;
            try
            {
                var runner = new CodeRunner(WorkEngine(sandbox, manager));
                outcome = RunStreaming((stdout, stderr, c) =>
                    runner.RunAsync(sandbox.Id, sandbox.Image, _language, _code, ArgumentList, request, stdout, stderr, removeCodeFile, c));
            }
            catch (SandboxException e)
            {
                WriteSandboxError(e, sandbox);
                return;
            }
            Report(sandbox, display, outcome);
        }

        /// <summary>Runs the code in the session's kernel for its language (started on first use), so that its variables stay for the next call.</summary>
        void RunInSession(SandboxSession session)
        {
            InUse(session);
            var display = Display();
            KernelOutcome? result = null;
            ExecOutcome outcome;
            try
            {
                var (kernel, restarted) = Run(c => session.KernelAsync(_language, c));
                if (restarted)
                    WriteWarning($"The {_language.Name} kernel of session '{session.Name}' had ended and was started again: variables from earlier calls are gone.");
                var code = StandardInputEncoding.GetString(_code);
                outcome = RunStreaming(async (stdout, stderr, c) =>
                {
                    result = await kernel.RunAsync(code, TimeSpan.FromSeconds(TimeoutSec), PassThru ? ExecRequest.DefaultCaptureLimitChars : 0, stdout, stderr, c).ConfigureAwait(false);
                    return result.Outcome;
                });
            }
            catch (SandboxException e)
            {
                SetLastExitCode(-1);
                // A session closing while its kernel starts or runs ends the kernel too: the session's state says why.
                WriteSandboxError(session.State == SandboxSession.OpenState ? e : session.Closed(), session.Sandbox, session);
                return;
            }
            if (result!.Status == KernelStatus.Raised)
                WriteError(new ErrorRecord(new SandboxCodeException(_language.Name, result.Error), "SandboxCodeError", ErrorCategory.InvalidOperation, session));
            if (result.KernelKilled)
                WriteWarning($"The {_language.Name} kernel of session '{session.Name}' did not stop when interrupted and was killed; the next call starts a new one, without the old variables.");
            Report(session.Sandbox, display, outcome, result.KernelKilled ? "was killed with its kernel" : "was interrupted; the kernel kept its state");
        }

        /// <summary>How messages name this code: its file, or its first line.</summary>
        string Display()
        {
            if (_source != "<code>") return $"{_language.Name} {_source}";
            var code = Code!.TrimStart();
            var end = code.IndexOfAny(new[] { '\r', '\n' });
            var first = end < 0 ? code : code.Substring(0, end) + " ...";
            return first.Length > 60 ? first.Substring(0, 57) + "..." : first;
        }

        /// <summary>A sandbox of the language's image for this one run, removed afterwards whatever happens (as Use-Sandbox does).</summary>
        void RunInThrowawaySandbox()
        {
            Sandbox sandbox;
            ISandboxBackend manager;
            try
            {
                var endpoint = ResolvePlace(DockerHost, Cluster, NodeEndpoint);
                EngineRuntimes.RefuseOnCluster(Runtime?.Trim(), endpoint);
                manager = Connect(endpoint);
                var limits = ResourceLimits.Defaults();
                limits.Normalize();
                var spec = new SandboxSpec
                {
                    Image = Image ?? _language.Image,
                    ImageOrigin = Image == null ? ImageOrigin.Language(_language.Name) : ImageOrigin.Given,
                    // Its deadline removes it even if this process dies; it outlives the run's own -TimeoutSec.
                    TimeoutSec = TimeoutSec > 0 ? TimeoutSec + 60 : SandboxSpec.DefaultTimeoutSec,
                    Limits = limits,
                    Runtime = Runtime?.Trim(),
                };
                WriteVerbose($"Creating a sandbox from image {spec.Image} for this {_language.Name} code.");
                try
                {
                    sandbox = Run(c => manager.CreateAsync(spec,
                        PipelineProgress<PullProgress>(p => WriteProgress(new ProgressRecord(1, $"Pulling image {p.Image}", string.IsNullOrEmpty(p.Layer) ? p.Status : $"{p.Layer}: {p.Status}"))),
                        null, c));
                }
                finally { WriteProgress(new ProgressRecord(1, $"Pulling image {spec.Image}", "Done") { RecordType = ProgressRecordType.Completed }); }
                CleanupEngine.Instance.Track(sandbox, endpoint);
                CompletionSource.Invalidate();
            }
            catch (SandboxException e)
            {
                WriteSandboxError(e);
                return;
            }

            try { RunIn(sandbox, manager, removeCodeFile: false); }
            finally
            {
                try
                {
                    RemoveSandbox(sandbox, manager, evenOnCtrlC: true);
                }
                catch (SandboxException e) { WriteSandboxError(e, sandbox); }
            }
        }
    }
}
