using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Sandbox.Files;
using Sandbox.Hosting;
using Sandbox.Lifecycle;

namespace Sandbox.Commands
{
    [Cmdlet(VerbsCommon.Copy, "SandboxItem", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = BySandbox)]
    [OutputType(typeof(string), typeof(FileSystemInfo), typeof(Job))]
    public sealed class CopySandboxItemCommand : SandboxTargetCmdletBase
    {
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(Completion.SandboxPathCompleter))]
        public string[]? Path { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        [Alias("PSPath", "LP")]
        public string[]? LiteralPath { get; set; }

        [Parameter(Position = 1)]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        [Parameter]
        public SwitchParameter ToSandbox { get; set; }

        [Parameter]
        public SwitchParameter FromSandbox { get; set; }

        [Parameter]
        public SwitchParameter Recurse { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        [Parameter]
        public SwitchParameter AsJob { get; set; }

        SandboxJobLauncher? _job;

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            if ((Path == null) == (LiteralPath == null))
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("Name what to copy with -Path (wildcards allowed) or -LiteralPath, not both."),
                    "PathRequired", ErrorCategory.InvalidArgument, null));
            if (ToSandbox && FromSandbox)
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("Use -ToSandbox (the default) or -FromSandbox, not both."),
                    "ConflictingSwitches", ErrorCategory.InvalidArgument, null));
            if (AsJob) _job = new SandboxJobLauncher(this);
        }

        protected override void EndProcessing()
        {
            if (_job != null) WriteObject(_job.Start());
        }

        protected override void ProcessRecord()
        {
            if (_job != null) { _job.AddPipelineInput(); return; }
            List<(Sandbox Sandbox, ISandboxBackend Backend)> targets;
            try { targets = ResolveTargets(); }
            catch (SandboxException e) { WriteSandboxError(e); return; }

            foreach (var (sandbox, manager) in targets)
            {
                if (FromSandbox) CopyOut(sandbox, manager);
                else CopyIn(sandbox, manager);
            }
        }

        void CopyIn(Sandbox sandbox, ISandboxBackend manager)
        {
            var sources = new List<string>();
            foreach (var local in LocalSources())
            {
                if (Directory.Exists(local) && !Recurse)
                {
                    WriteError(new ErrorRecord(new IOException($"'{local}' is a folder; add -Recurse to copy folders."), "RecurseRequired", ErrorCategory.InvalidArgument, local));
                    continue;
                }
                sources.Add(local);
            }
            if (sources.Count == 0) return;

            var destination = ContainerPath.Resolve(sandbox.WorkingDirectory, Destination ?? sandbox.WorkingDirectory);
            if (!ShouldProcess($"{string.Join(", ", sources)} -> {sandbox.Name}:{destination}", "Copy into sandbox")) return;
            var activity = $"Copying into {sandbox.Name}:{destination}";
            try
            {
                var transfer = new ArchiveTransfer(WorkEngine(sandbox, manager));
                var result = Run(c => transfer.UploadAsync(sandbox.Id, sources, destination, contentsOnly: false,
                    PipelineProgress<TransferProgress>(p => CopyProgressView.Show(this, 3, activity, p)), c));
                WriteVerbose($"Copied {result.Files} files ({Units.FormatBytes(result.Bytes)}) into {sandbox.Name}:{destination}.");
                if (PassThru) foreach (var path in result.Written) WriteObject(path);
            }
            catch (SandboxException e) { WriteSandboxError(e, sandbox, destination); }
            finally { CopyProgressView.Complete(this, 3, activity); }
        }

        IEnumerable<string> LocalSources()
        {
            if (LiteralPath != null)
            {
                foreach (var literal in LiteralPath)
                {
                    var resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(literal);
                    if (File.Exists(resolved) || Directory.Exists(resolved)) yield return resolved;
                    else WriteError(new ErrorRecord(new ItemNotFoundException($"Cannot find path '{literal}' because it does not exist."), "PathNotFound", ErrorCategory.ObjectNotFound, literal));
                }
                yield break;
            }
            foreach (var pattern in Path!)
            {
                List<string>? resolved = null;
                try { resolved = GetResolvedProviderPathFromPSPath(pattern, out _).ToList(); }
                catch (ItemNotFoundException e) { WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, pattern)); }
                catch (ProviderNotFoundException e) { WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, pattern)); }
                if (resolved == null) continue;
                foreach (var path in resolved) yield return path;
            }
        }

        void CopyOut(Sandbox sandbox, ISandboxBackend manager)
        {
            var destination = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination ?? ".");
            var items = (Path ?? LiteralPath)!;
            if (items.Length > 1 && !Directory.Exists(destination))
            {
                // Each item would take the destination's name in turn, the last one overwriting the others.
                WriteSandboxError(new SandboxException("PathNotFound", SandboxErrorKind.ObjectNotFound,
                    $"Folder '{destination}' does not exist; {items.Length} items can only be copied into an existing folder.", destination,
                    "Create the folder first (New-Item -ItemType Directory), or copy the items one at a time."));
                return;
            }
            foreach (var item in items)
            {
                var source = ContainerPath.Resolve(sandbox.WorkingDirectory, item);
                if (!ShouldProcess($"{sandbox.Name}:{source} -> {destination}", "Copy out of sandbox")) continue;
                var activity = $"Copying {sandbox.Name}:{source}";
                try
                {
                    var transfer = new ArchiveTransfer(WorkEngine(sandbox, manager));
                    if (!Recurse)
                    {
                        var stat = Run(c => transfer.StatAsync(sandbox.Id, source, c));
                        if (stat != null && ArchiveTransfer.IsDirectory(stat))
                        {
                            WriteError(new ErrorRecord(new IOException($"'{source}' in sandbox '{sandbox.Name}' is a folder; add -Recurse to copy folders."), "RecurseRequired", ErrorCategory.InvalidArgument, source));
                            continue;
                        }
                    }
                    var result = Run(c => transfer.DownloadAsync(sandbox.Id, source, destination,
                        PipelineProgress<TransferProgress>(p => CopyProgressView.Show(this, 3, activity, p)), c));
                    foreach (var (entry, reason) in result.Skipped)
                        WriteError(new ErrorRecord(new IOException($"Skipped '{entry}' from sandbox '{sandbox.Name}': {reason}."), "UnsafeArchiveEntry", ErrorCategory.SecurityError, entry));
                    WriteVerbose($"Copied {result.Files} files ({Units.FormatBytes(result.Bytes)}) from {sandbox.Name}:{source}.");
                    if (PassThru)
                    {
                        var top = Directory.Exists(destination) ? System.IO.Path.Combine(destination, ContainerPath.Name(source)) : destination;
                        WriteObject(InvokeProvider.Item.Get(new[] { top }, true, true), true);
                    }
                }
                catch (SandboxException e) { WriteSandboxError(e, sandbox, source); }
                finally { CopyProgressView.Complete(this, 3, activity); }
            }
        }
    }
}
