using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Threading;
using System.Threading.Tasks;

namespace Sandbox.Hosting
{
    /// <summary>
    /// -AsJob: the same cmdlet with the same parameters, run in a PowerShell of its own on a runspace of its own that
    /// imports this module, as ThreadJob does; kept in the session's job repository, so Get-Job, Wait-Job, Receive-Job
    /// (-AutoRemoveJob too), Stop-Job and Remove-Job work on it. Its streams are the job's streams, so Receive-Job gets the output,
    /// errors, progress, warnings and information; Stop-Job stops that pipeline, which cancels the engine work (a
    /// running command is killed inside the sandbox, as on Ctrl+C).
    /// </summary>
    public sealed class SandboxJob : Job
    {
        readonly Runspace _runspace;
        readonly PowerShell _powerShell;
        readonly PSDataCollection<object> _input = new PSDataCollection<object>();
        readonly PSDataCollection<PSObject> _results = new PSDataCollection<PSObject>();
        readonly string _location;
        readonly string _jobLocation;
        readonly Action<PSObject>? _onResult;
        readonly object _gate = new object();
        IAsyncResult? _invocation;
        bool _stopRequested;

        internal SandboxJob(string command, string modulePath, string commandName, IDictionary<string, object?> parameters,
            IEnumerable<object>? input, string currentLocation, string jobLocation, Action<PSObject>? onResult)
            : base(command, null)
        {
            PSJobTypeName = nameof(SandboxJob);
            _location = currentLocation;
            _jobLocation = jobLocation;
            _onResult = onResult;

            var state = InitialSessionState.CreateDefault2();
            state.ImportPSModule(new[] { modulePath });
            state.ThrowOnRunspaceOpenError = true;
            _runspace = RunspaceFactory.CreateRunspace(state);
            _powerShell = PowerShell.Create();
            _powerShell.Runspace = _runspace;
            _powerShell.AddCommand(commandName);
            foreach (var parameter in parameters) _powerShell.AddParameter(parameter.Key, parameter.Value);

            if (input != null) foreach (var item in input) _input.Add(item);
            _input.Complete();

            Output = new PSDataCollection<PSObject> { EnumeratorNeverBlocks = true };
            _results.DataAdded += (_, e) => Forward();
            Error = new PSDataCollection<ErrorRecord>();
            _powerShell.Streams.Error.DataAdded += (_, e) => ForwardErrors();
            Progress = _powerShell.Streams.Progress;
            Verbose = _powerShell.Streams.Verbose;
            Warning = _powerShell.Streams.Warning;
            Debug = _powerShell.Streams.Debug;
            Information = _powerShell.Streams.Information;
            Error.EnumeratorNeverBlocks = Progress.EnumeratorNeverBlocks = Verbose.EnumeratorNeverBlocks = true;
            Warning.EnumeratorNeverBlocks = Debug.EnumeratorNeverBlocks = Information.EnumeratorNeverBlocks = true;
        }

        /// <summary>Objects reach the job's output through here, so that the caller's side can adopt them first (the -OnKill hook).</summary>
        void Forward()
        {
            foreach (var item in _results.ReadAll())
            {
                try { _onResult?.Invoke(item); }
                catch (Exception e) { Warning.Add(new WarningRecord($"Could not attach to the job's output '{item}': {e.Message}")); }
                Output.Add(item);
            }
        }

        /// <summary>
        /// A job's stderr lines reach the caller as information records tagged stderr, as before stderr could be redirected:
        /// Receive-Job writes a job's errors as the caller's own, and under $ErrorActionPreference = 'Stop' a line on stderr
        /// would then stop the script that receives it.
        /// </summary>
        void ForwardErrors()
        {
            foreach (var record in _powerShell.Streams.Error.ReadAll())
            {
                if (!Commands.StandardErrorWriter.IsStandardErrorLine(record)) { Error.Add(record); continue; }
                var information = new InformationRecord(new HostInformationMessage { Message = record.Exception.Message }, Name);
                information.Tags.Add("PSHOST");
                information.Tags.Add("stderr");
                Information.Add(information);
            }
        }

        internal void Start()
        {
            if (JobStateInfo.State != JobState.NotStarted) throw new InvalidOperationException("The job has already been started.");
            SetJobState(JobState.Running);
            Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        void Run()
        {
            try
            {
                _runspace.Open();
                using (var setLocation = PowerShell.Create())
                {
                    setLocation.Runspace = _runspace;
                    setLocation.AddCommand("Set-Location").AddParameter("LiteralPath", _location).Invoke();
                }
                lock (_gate)
                {
                    if (_stopRequested) { Finish(JobState.Stopped, null); return; }
                    _invocation = _powerShell.BeginInvoke(_input, _results);
                }
                _powerShell.EndInvoke(_invocation);
                Finish(_powerShell.InvocationStateInfo.State == PSInvocationState.Stopped ? JobState.Stopped : JobState.Completed, null);
            }
            catch (PipelineStoppedException) { Finish(JobState.Stopped, null); }
            catch (Exception e) when (_stopRequested && (e is OperationCanceledException || e.InnerException is PipelineStoppedException))
            {
                Finish(JobState.Stopped, null);
            }
            catch (Exception e)
            {
                var record = (e as IContainsErrorRecord)?.ErrorRecord ?? new ErrorRecord(e, "SandboxJobFailed", ErrorCategory.NotSpecified, null);
                try { Error.Add(record); } catch (Exception) { /* the job was disposed meanwhile */ }
                Finish(JobState.Failed, e);
            }
        }

        void Finish(JobState state, Exception? reason)
        {
            try { SandboxHooks.Detach(_runspace.Events); } catch (Exception) { /* a runspace that never opened has no events */ }
            try { _runspace.Dispose(); } catch (Exception) { /* closing a runspace that never opened */ }
            Output.Complete();
            SetJobState(state);
        }

        /// <summary>Stops the cmdlet the way Ctrl+C would, and returns once the job has ended.</summary>
        public override void StopJob()
        {
            bool started;
            lock (_gate)
            {
                if (IsFinished(JobStateInfo.State)) return;
                _stopRequested = true;
                started = _invocation != null;
            }
            if (started) _powerShell.Stop();
            Finished.WaitOne();
        }

        static bool IsFinished(JobState state) => state == JobState.Completed || state == JobState.Failed || state == JobState.Stopped;

        public override string StatusMessage => "";

        public override bool HasMoreData =>
            Output.Count > 0 || Error.Count > 0 || Progress.Count > 0 || Verbose.Count > 0 || Debug.Count > 0 || Warning.Count > 0 || Information.Count > 0;

        /// <summary>The engine the job works on, as Get-Job shows it.</summary>
        public override string Location => _jobLocation;

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                if (!IsFinished(JobStateInfo.State) && JobStateInfo.State != JobState.NotStarted) StopJob();
                _powerShell.Dispose();
                _runspace.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
