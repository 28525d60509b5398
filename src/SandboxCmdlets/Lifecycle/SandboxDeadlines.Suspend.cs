using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;

namespace Sandbox.Lifecycle
{
    /// <summary>
    /// Suspend and resume (the engine's pause): a suspended sandbox's deadline clock stops. PID 1 is frozen with the rest,
    /// but its clock (/proc/uptime) runs on, so the deadline file must hold the resumed deadline before it thaws. While
    /// suspended the deadline file holds when the sandbox is removed if still suspended (the cleanup engine of any process
    /// acts on it; PID 1 cannot), and the suspend record beside it holds the frozen remaining time.
    /// </summary>
    public sealed partial class SandboxDeadlines
    {
        /// <summary>-MaxSuspend's default: an hour.</summary>
        public const int DefaultMaxSuspendSec = 3600;

        static string SuspendRecordPath => DeadlineGuard.Folder + "/" + SuspendRecord.FileName;

        /// <summary>
        /// Pauses the sandbox and records its suspension in every layer: the record and the deadline file on its volume,
        /// this process's knowledge and the object. The deadline is read from the file first (another process may have moved it).
        /// </summary>
        public async Task SuspendAsync(Sandbox sandbox, TimeSpan maxSuspend, bool keepDeadline, CancellationToken cancel)
        {
            // The swarm would go on calling a paused task running, and its listing would not show the frozen time.
            if (sandbox.Cluster != null)
                throw new SandboxException("SuspendNotOnCluster", SandboxErrorKind.InvalidOperation,
                    $"Sandbox '{sandbox.Name}' runs on cluster {sandbox.Cluster}, whose tasks cannot be suspended in this version (the swarm would go on reporting it running).", sandbox.Name);
            if (!sandbox.Labels.ContainsKey(SandboxLabels.DeadlineVolume)) DeadlineVolumeOf(sandbox);
            var read = await RefreshAsync(sandbox, cancel).ConfigureAwait(false);
            if (read.State == DeadlineFileState.Unreadable)
                throw new SandboxException("SuspendFailed", SandboxErrorKind.InvalidOperation,
                    $"Could not suspend sandbox '{sandbox.Name}': its deadline file could not be read ({read.Error}).", sandbox.Name);
            var writer = await CreateWriterAsync(sandbox, findLocalFolder: true, cancel).ConfigureAwait(false);
            try
            {
                var offset = await ClockOffsetAsync(cancel).ConfigureAwait(false);
                try { await _engine.Client.Containers.PauseContainerAsync(sandbox.Id, cancel).ConfigureAwait(false); }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict) { throw PauseFailure(sandbox, e, "suspend"); }
                catch (Exception e) { throw WriteFailure(e, sandbox); }
                // From here the deadline clock is stopped: the remaining time is what is left now.
                var record = SuspendRecord.At(DateTime.UtcNow, sandbox.ExpiresAt, keepDeadline);
                var removal = record.RemovalDeadline(maxSuspend);
                await WriteFilesAsync(sandbox, new[]
                {
                    (SuspendRecord.FileName, record.ToFileText()),
                    (DeadlineGuard.FileName, DeadlineGuard.FileText(removal + offset)),
                }, writer, cancel).ConfigureAwait(false);
                Apply(sandbox, record, removal);
                sandbox.EngineState = "paused";
                Remember(sandbox);
            }
            finally { await RemoveWriterQuietlyAsync(writer).ConfigureAwait(false); }
        }

        /// <summary>
        /// Writes the resumed deadline (the frozen remaining time from now, or the original deadline with -KeepDeadline)
        /// and then unpauses, so that PID 1 thaws to the right deadline. False: the sandbox was not suspended (nothing done).
        /// A sandbox whose removal deadline passed while suspended is not resumed: <see cref="IsKnownPassed"/> tells the caller to remove it.
        /// </summary>
        public async Task<bool> ResumeAsync(Sandbox sandbox, CancellationToken cancel)
        {
            ContainerInspectResponse inspect;
            try { inspect = await _engine.Client.Containers.InspectContainerAsync(sandbox.Id, cancel).ConfigureAwait(false); }
            catch (Exception e) { throw WriteFailure(e, sandbox); }
            if (inspect.State?.Paused != true) { sandbox.EngineState = inspect.State?.Status ?? sandbox.EngineState; return false; }

            await ReadSuspensionAsync(sandbox, cancel).ConfigureAwait(false);
            if (sandbox.DeadlineUnknown)
                throw new SandboxException("ResumeFailed", SandboxErrorKind.InvalidOperation,
                    $"Could not resume sandbox '{sandbox.Name}': its deadline file could not be read.", sandbox.Name);
            if (IsKnownPassed(sandbox)) return true;

            var writer = await CreateWriterAsync(sandbox, findLocalFolder: true, cancel).ConfigureAwait(false);
            try
            {
                var offset = await ClockOffsetAsync(cancel).ConfigureAwait(false);
                var record = sandbox.Suspension;
                DateTime? deadline;
                if (record?.Remaining != null && !record.Value.KeepDeadline)
                {
                    // The file holds whole seconds: the sandbox thaws at the moment that makes the rounded-up deadline its
                    // exact remaining time (at most a second's wait), rather than gaining up to a second. A write slower
                    // than the margin moves it on a second, so that the sandbox never loses time.
                    var margin = WriteMargin;
                    while (true)
                    {
                        var (engineDeadline, thaw) = record.Value.ThawOnTheSecond(DateTime.UtcNow + margin, offset);
                        await WriteFilesAsync(sandbox, new[]
                        {
                            (SuspendRecord.FileName, SuspendRecord.ResumedText),
                            (DeadlineGuard.FileName, DeadlineGuard.FileText(engineDeadline)),
                        }, writer, cancel).ConfigureAwait(false);
                        deadline = engineDeadline - offset;
                        var wait = thaw - DateTime.UtcNow;
                        if (wait >= TimeSpan.Zero) { await Task.Delay(wait, cancel).ConfigureAwait(false); break; }
                        margin += margin;
                    }
                }
                else
                {
                    // -KeepDeadline: the original deadline; paused by someone else (docker pause): the one it had.
                    deadline = record is SuspendRecord r ? r.ResumedDeadline(DateTime.UtcNow) : sandbox.ExpiresAt;
                    await WriteFilesAsync(sandbox, new[]
                    {
                        (SuspendRecord.FileName, SuspendRecord.ResumedText),
                        (DeadlineGuard.FileName, DeadlineGuard.FileText(deadline + offset)),
                    }, writer, cancel).ConfigureAwait(false);
                }
                try { await _engine.Client.Containers.UnpauseContainerAsync(sandbox.Id, cancel).ConfigureAwait(false); }
                catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict) { throw PauseFailure(sandbox, e, "resume"); }
                catch (Exception e) { throw WriteFailure(e, sandbox); }
                sandbox.Suspension = null;
                sandbox.EngineState = "running";
                sandbox.ExpiresAt = deadline;
                sandbox.DeadlineUnknown = false;
                Remember(sandbox);
                return true;
            }
            finally { await RemoveWriterQuietlyAsync(writer).ConfigureAwait(false); }
        }

        /// <summary>
        /// For a paused sandbox: the deadline file (when it is removed if still suspended) and the suspend record (the frozen
        /// remaining time), which Get-Sandbox shows. A file that cannot be read marks the deadline unknown.
        /// </summary>
        public async Task ReadSuspensionAsync(Sandbox sandbox, CancellationToken cancel)
        {
            var read = await RefreshAsync(sandbox, cancel).ConfigureAwait(false);
            if (read.State == DeadlineFileState.Unreadable) return;
            string? text;
            try { text = await ReadVolumeFileOnceAsync(sandbox.Id, SuspendRecordPath, cancel).ConfigureAwait(false); }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested) { throw; }
            catch (Exception) { sandbox.DeadlineUnknown = true; return; }
            sandbox.Suspension = text != null && SuspendRecord.TryParse(text, out var record) ? record : (SuspendRecord?)null;
        }

        /// <summary>Reads the suspension of every paused sandbox in the list (a few archive reads each; paused ones are few).</summary>
        internal Task ReadSuspensionsAsync(IEnumerable<Sandbox> sandboxes, CancellationToken cancel) =>
            Task.WhenAll(sandboxes.Where(s => s.EngineState == "paused" && s.Labels.ContainsKey(SandboxLabels.DeadlineVolume))
                .Select(s => ReadSuspensionAsync(s, cancel)));

        /// <summary>What writing the deadline file may take before the thaw it was computed for.</summary>
        static readonly TimeSpan WriteMargin = TimeSpan.FromMilliseconds(150);

        static void Apply(Sandbox sandbox, SuspendRecord record, DateTime removal)
        {
            sandbox.Suspension = record;
            sandbox.ExpiresAt = removal;
            sandbox.DeadlineUnknown = false;
        }

        static SandboxException PauseFailure(Sandbox sandbox, DockerApiException e, string verb) =>
            new SandboxException(verb == "suspend" ? "SuspendFailed" : "ResumeFailed", SandboxErrorKind.InvalidOperation,
                $"Could not {verb} sandbox '{sandbox.Name}' ({sandbox.ShortId}): {EngineErrors.Message(e).Replace(sandbox.Id, "the container")}", sandbox.Name, null, e);
    }
}
