using System;
using System.Management.Automation;
using System.Reflection;

namespace Sandbox.Commands
{
    /// <summary>
    /// Where the stderr lines of a command in a sandbox go: where PowerShell 7.2+ sends a native command's stderr.
    /// Not redirected: to the console as plain text (the information stream, tagged PSHOST and stderr), never into $Error.
    /// Redirected (2>&amp;1, 2> file, 2>$null, a host's error collection): as ErrorRecords whose text is the line
    /// (FullyQualifiedErrorId NativeCommandError, which the default error view prints as the bare line), written the way
    /// PowerShell writes native stderr so that $ErrorActionPreference = 'Stop' does not stop the script on them and they
    /// stay out of $Error.
    /// Why reflection: a binary cmdlet cannot see whether its error stream is redirected, nor write an error that the Stop
    /// preference ignores; both are internal to System.Management.Automation (MshCommandRuntime.ErrorMergeTo and
    /// ErrorOutputPipe, _WriteErrorSkipAllowCheck(isFromNativeStdError)). They are looked up once; where any is missing
    /// (Windows PowerShell 5.1, a PowerShell that renamed them) stderr goes to the information stream, as it always did.
    /// </summary>
    sealed class StandardErrorWriter
    {
        public const string FirstLineErrorId = "NativeCommandError";
        public const string NextLineErrorId = "NativeCommandErrorMessage";

        static readonly Internals? Found = Internals.Find();

        readonly Action<ErrorRecord, ActionPreference?, bool>? _writeNativeError;
        readonly Action<string> _toInformation;
        bool _firstLine = true;

        StandardErrorWriter(Action<ErrorRecord, ActionPreference?, bool>? writeNativeError, Action<string> toInformation)
        {
            _writeNativeError = writeNativeError;
            _toInformation = toInformation;
        }

        /// <summary>Whether stderr lines become error records (stderr redirected, on a PowerShell that allows it).</summary>
        public bool WritesErrorRecords => _writeNativeError != null;

        /// <summary>Call in BeginProcessing, once the command's redirections are set up.</summary>
        public static StandardErrorWriter For(Cmdlet cmdlet, Action<string> toInformation)
        {
            var runtime = cmdlet.CommandRuntime;
            if (Found == null || runtime == null || !Found.Runtime.IsInstanceOfType(runtime)) return new StandardErrorWriter(null, toInformation);
            try
            {
                if (!Found.IsRedirected(runtime)) return new StandardErrorWriter(null, toInformation);
                var write = (Action<ErrorRecord, ActionPreference?, bool>)Delegate.CreateDelegate(typeof(Action<ErrorRecord, ActionPreference?, bool>), runtime, Found.WriteError);
                return new StandardErrorWriter(write, toInformation);
            }
            catch (Exception)
            {
                // The internals answered in a way this PowerShell's did not: stderr keeps going where it always went.
                return new StandardErrorWriter(null, toInformation);
            }
        }

        /// <summary>Call on the pipeline thread.</summary>
        public void Write(string line)
        {
            if (_writeNativeError == null) { _toInformation(line); return; }
            var record = _firstLine
                ? new ErrorRecord(new RemoteException(line), FirstLineErrorId, ErrorCategory.NotSpecified, line)
                : new ErrorRecord(new RemoteException(line), NextLineErrorId, ErrorCategory.NotSpecified, null);
            _firstLine = false;
            _writeNativeError(record, null, true);
        }

        /// <summary>Whether <paramref name="record"/> is a stderr line written by this type.</summary>
        public static bool IsStandardErrorLine(ErrorRecord record) =>
            record.Exception is RemoteException && (record.FullyQualifiedErrorId == FirstLineErrorId || record.FullyQualifiedErrorId == NextLineErrorId);

        sealed class Internals
        {
            public Type Runtime = null!;
            PropertyInfo _errorMergeTo = null!;
            PropertyInfo _errorOutputPipe = null!;
            PropertyInfo _downstreamCmdlet = null!;
            PropertyInfo _commandInfo = null!;
            PropertyInfo _command = null!;
            public MethodInfo WriteError = null!;

            public static Internals? Find()
            {
                try
                {
                    const BindingFlags Flags = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;
                    var assembly = typeof(PSObject).Assembly;
                    var runtime = assembly.GetType("System.Management.Automation.MshCommandRuntime");
                    var pipe = assembly.GetType("System.Management.Automation.Internal.Pipe");
                    var processor = assembly.GetType("System.Management.Automation.CommandProcessorBase");
                    if (runtime == null || pipe == null || processor == null) return null;
                    var write = runtime.GetMethod("_WriteErrorSkipAllowCheck", Flags, null, new[] { typeof(ErrorRecord), typeof(ActionPreference?), typeof(bool) }, null);
                    if (write == null || write.GetParameters()[2].Name != "isFromNativeStdError") return null;
                    var found = new Internals
                    {
                        Runtime = runtime,
                        WriteError = write,
                        _errorMergeTo = runtime.GetProperty("ErrorMergeTo", Flags)!,
                        _errorOutputPipe = runtime.GetProperty("ErrorOutputPipe", Flags)!,
                        _downstreamCmdlet = pipe.GetProperty("DownstreamCmdlet", Flags)!,
                        _commandInfo = processor.GetProperty("CommandInfo", Flags)!,
                        _command = processor.GetProperty("Command", Flags)!,
                    };
                    return found._errorMergeTo == null || found._errorOutputPipe == null || found._downstreamCmdlet == null ||
                           found._commandInfo == null || found._command == null ? null : found;
                }
                catch (Exception)
                {
                    // Not this PowerShell's internals: stderr keeps going to the information stream.
                    return null;
                }
            }

            /// <summary>As NativeCommandProcessor decides: merged into the output, or an error pipe that is not the host's own Out-Default.</summary>
            public bool IsRedirected(object runtime)
            {
                if (string.Equals(_errorMergeTo.GetValue(runtime)?.ToString(), "Output", StringComparison.Ordinal)) return true;
                var errorPipe = _errorOutputPipe.GetValue(runtime);
                var downstream = errorPipe == null ? null : _downstreamCmdlet.GetValue(errorPipe);
                if (downstream == null) return true;
                var name = (_commandInfo.GetValue(downstream) as CommandInfo)?.Name;
                if (!string.Equals(name, "Out-Default", StringComparison.OrdinalIgnoreCase)) return true;
                return _command.GetValue(downstream) is PSCmdlet outDefault && outDefault.MyInvocation.BoundParameters.ContainsKey("Transcript");
            }
        }
    }
}
