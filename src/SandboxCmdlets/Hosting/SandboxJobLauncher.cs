using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Management.Automation;

namespace Sandbox.Hosting
{
    /// <summary>
    /// The -AsJob side of a cmdlet: remembers the parameters of the command line and what each pipeline object bound,
    /// and at the end starts one <see cref="SandboxJob"/> that runs the cmdlet with those parameters and that input.
    /// </summary>
    sealed class SandboxJobLauncher
    {
        /// <summary>Common parameters that name the caller's variables or buffering: they mean nothing in the job.</summary>
        static readonly HashSet<string> CallerOnly = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "AsJob", "ErrorVariable", "WarningVariable", "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable",
        };

        readonly PSCmdlet _cmdlet;
        readonly Dictionary<string, object?> _commandLine;
        readonly List<object> _input = new List<object>();
        bool _pipelineBound;

        /// <summary>Call in BeginProcessing, when only the command line's parameters are bound.</summary>
        public SandboxJobLauncher(PSCmdlet cmdlet)
        {
            _cmdlet = cmdlet;
            _commandLine = new Dictionary<string, object?>(cmdlet.MyInvocation.BoundParameters, StringComparer.OrdinalIgnoreCase);
        }

        /// <summary>
        /// Call in ProcessRecord: keeps what this pipeline object bound, to pipe it to the job's cmdlet. <paramref name="except"/>
        /// names a parameter that bound the same object again and must not count (the stdin parameter beside -Sandbox).
        /// </summary>
        public void AddPipelineInput(string? except = null)
        {
            var bound = _cmdlet.MyInvocation.BoundParameters
                .Where(p => !_commandLine.ContainsKey(p.Key) && !string.Equals(p.Key, except, StringComparison.OrdinalIgnoreCase)).ToList();
            if (bound.Count == 0) return;
            _pipelineBound = true;
            if (bound.Count == 1 && TakesPipelineValue(bound[0].Key))
            {
                var value = bound[0].Value;
                if (value is IEnumerable many && !(value is string)) _input.AddRange(many.Cast<object>());
                else if (value != null) _input.Add(value);
                return;
            }
            var item = new PSObject();
            foreach (var p in bound) item.Properties.Add(new PSNoteProperty(p.Key, p.Value));
            _input.Add(item);
        }

        bool TakesPipelineValue(string parameter) =>
            _cmdlet.MyInvocation.MyCommand.Parameters.TryGetValue(parameter, out var metadata) &&
            metadata.Attributes.OfType<ParameterAttribute>().Any(a => a.ValueFromPipeline);

        /// <summary>Call in EndProcessing: starts the job, adds it to the session's job list and returns it.</summary>
        public SandboxJob Start()
        {
            var parameters = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
            ScriptBlock? onKill = null;
            foreach (var p in _commandLine)
            {
                if (CallerOnly.Contains(p.Key)) continue;
                if (p.Key.Equals("OnKill", StringComparison.OrdinalIgnoreCase) && p.Value is ScriptBlock kill) { onKill = kill; continue; }
                // A script block belongs to the runspace that made it; the job's runspace gets its own copy.
                parameters[p.Key] = p.Value is ScriptBlock block ? ScriptBlock.Create(block.ToString()) : p.Value;
            }

            var events = _cmdlet.Events;
            Action<PSObject>? onResult = null;
            if (onKill != null)
            {
                // -OnKill belongs to the caller's session, which outlives the job: it runs there when the sandbox is stopped or expires.
                onResult = item =>
                {
                    if (item.BaseObject is Sandbox sandbox) SandboxHooks.RegisterOnKill(events, sandbox, onKill);
                };
            }

            var command = _cmdlet.MyInvocation.MyCommand;
            var job = new SandboxJob(Describe(command.Name, _commandLine), ModulePath(command), $"Sandbox\\{command.Name}", parameters,
                _pipelineBound ? _input : null, _cmdlet.SessionState.Path.CurrentFileSystemLocation.ProviderPath, EngineOf(), onResult);
            _cmdlet.JobRepository.Add(job);
            job.Start();
            return job;
        }

        /// <summary>The manifest the cmdlet was imported from, so the job's runspace loads the module the same way.</summary>
        static string ModulePath(CommandInfo command)
        {
            var module = command.Module;
            if (module != null)
            {
                var manifest = Path.Combine(module.ModuleBase, "Sandbox.psd1");
                if (File.Exists(manifest)) return manifest;
                if (!string.IsNullOrEmpty(module.Path)) return module.Path;
            }
            return typeof(SandboxJob).Assembly.Location;
        }

        string EngineOf()
        {
            if (_commandLine.TryGetValue("DockerHost", out var host) && host != null) return host.ToString()!;
            if (_commandLine.TryGetValue("Cluster", out var cluster) && cluster != null) return "cluster " + cluster;
            var engines = _input.Select(i => (i is PSObject pso ? pso.BaseObject : i) as Sandbox).Where(s => s != null).Select(s => s!.DockerHost).Distinct().ToList();
            return engines.Count > 0 ? string.Join(", ", engines) : "default engine";
        }

        /// <summary>The job's command as Get-Job shows it: the cmdlet and its command-line parameters.</summary>
        static string Describe(string name, Dictionary<string, object?> parameters)
        {
            var parts = new List<string> { name };
            foreach (var p in parameters)
            {
                if (CallerOnly.Contains(p.Key)) continue;
                var value = p.Value is PSObject pso ? pso.BaseObject : p.Value;
                parts.Add(value switch
                {
                    SwitchParameter s => s.IsPresent ? $"-{p.Key}" : $"-{p.Key}:$false",
                    string text => $"-{p.Key} '{text.Replace("'", "''")}'",
                    ScriptBlock block => $"-{p.Key} {{{block}}}",
                    IFormattable f => $"-{p.Key} {f.ToString(null, CultureInfo.InvariantCulture)}",
                    string[] many => $"-{p.Key} {string.Join(", ", many.Select(t => $"'{t.Replace("'", "''")}'"))}",
                    _ => $"-{p.Key} {value}",
                });
            }
            return string.Join(" ", parts);
        }
    }
}
