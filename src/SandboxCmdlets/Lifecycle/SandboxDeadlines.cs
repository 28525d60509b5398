using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Files;

namespace Sandbox.Lifecycle
{
    /// <summary>
    /// The one place that knows when a sandbox expires and that moves its deadline. A sandbox starts with a deadline in
    /// its labels and in PID 1's arguments; Set-Sandbox and a pool's hand-over move it by writing the deadline file that
    /// PID 1 watches (labels cannot change). The file is the truth whenever it exists; a file that cannot be read makes
    /// the deadline unknown, and an unknown deadline never counts as passed.
    /// </summary>
    public sealed partial class SandboxDeadlines
    {
        /// <summary>
        /// PID 1 exits this long after creation + timeout: the engine stamps a sandbox's creation a moment after we ask,
        /// and a sandbox must never end before its deadline.
        /// </summary>
        static readonly TimeSpan GuardGrace = TimeSpan.FromMilliseconds(250);

        /// <summary>
        /// How long the background removal waits past a deadline for PID 1 to end a running sandbox itself. The guard is
        /// the layer that holds with no PowerShell alive; racing it would end the same sandbox twice (exit 137 instead
        /// of 0, two events), and a busy machine wakes the guard a few hundred milliseconds late.
        /// </summary>
        public static readonly TimeSpan GuardFirst = TimeSpan.FromSeconds(1);

        /// <summary>The file holds whole seconds rounded up: within a second of what is known is no move.</summary>
        static readonly TimeSpan FilePrecision = TimeSpan.FromSeconds(1);

        static readonly TimeSpan[] ReadRetryDelays = { TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(400) };

        /// <summary>Deadlines moved in this process, which labels cannot show. Bounded: the oldest go first.</summary>
        static readonly ConcurrentDictionary<string, (DateTime? ExpiresAt, long Stamp)> MovedHere = new ConcurrentDictionary<string, (DateTime?, long)>();
        const int MovedHereLimit = 4096;
        static long _stamp;

        readonly DockerEngine _engine;

        public SandboxDeadlines(DockerEngine engine) => _engine = engine;

        // ---- the rule -------------------------------------------------------------------------------------------------

        /// <summary>A new sandbox's deadline (our clock): creation plus its timeout; null for none.</summary>
        public static DateTime? ForNew(int timeoutSec, DateTime createdUtc) => timeoutSec > 0 ? createdUtc.AddSeconds(timeoutSec) : (DateTime?)null;

        /// <summary>The deadline PID 1 gets at creation, on the engine's clock.</summary>
        public static DateTime? GuardDeadline(int timeoutSec, DateTime createdUtc, TimeSpan engineClockOffset, int idleTimeoutSec = 0) =>
            FirstDeadline(timeoutSec, idleTimeoutSec, createdUtc) is DateTime deadline ? deadline + engineClockOffset + GuardGrace : (DateTime?)null;

        /// <summary>A new sandbox's first deadline: with -IdleTimeout, creation plus that, never past the hard deadline.</summary>
        public static DateTime? FirstDeadline(int timeoutSec, int idleTimeoutSec, DateTime createdUtc) =>
            idleTimeoutSec > 0 ? IdleDeadline(createdUtc, idleTimeoutSec, ForNew(timeoutSec, createdUtc)) : ForNew(timeoutSec, createdUtc);

        /// <summary>
        /// The deadline a use at <paramref name="usedUtc"/> gives: then plus the idle timeout, rounded up to the whole second
        /// that the deadline file holds (so every layer keeps the same one, and a sandbox is never cut before it has been
        /// idle that long), never past the hard deadline (null: none).
        /// </summary>
        public static DateTime IdleDeadline(DateTime usedUtc, int idleTimeoutSec, DateTime? hardDeadline)
        {
            var exact = usedUtc.AddSeconds(idleTimeoutSec);
            var pushed = new DateTime((exact.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, DateTimeKind.Utc);
            return hardDeadline is DateTime hard && hard < pushed ? hard : pushed;
        }

        /// <summary>
        /// From the engine's creation time (a container's, or on a swarm its service's) the deadline is that plus the timeout,
        /// to the millisecond: the label holds whole seconds and would let the cleanup engine act up to a second early.
        /// </summary>
        internal static void FromEngineCreation(Sandbox sandbox, DateTime engineCreatedUtc)
        {
            if (sandbox.TimeoutSec > 0 && sandbox.HardExpiresAt != null) sandbox.HardExpiresAt = engineCreatedUtc.AddSeconds(sandbox.TimeoutSec);
            if (MovedHere.ContainsKey(sandbox.Id)) return;
            if (sandbox.IdleTimeoutSec > 0) sandbox.ExpiresAt = IdleDeadline(engineCreatedUtc, sandbox.IdleTimeoutSec, sandbox.HardExpiresAt);
            else if (sandbox.TimeoutSec > 0 && sandbox.ExpiresAt != null) sandbox.ExpiresAt = engineCreatedUtc.AddSeconds(sandbox.TimeoutSec);
        }

        /// <summary>Only a deadline known to have passed counts: never one whose file could not be read.</summary>
        public static bool IsKnownPassed(Sandbox sandbox) => sandbox.IsExpired && !sandbox.DeadlineUnknown;

        /// <summary>
        /// What a sweep removes: a sandbox whose deadline is known to have passed; on a cluster also one whose task ended (its
        /// service stays until removed) or whose node is down (lost: the swarm's "running" for it is stale).
        /// </summary>
        public static bool IsOver(Sandbox sandbox) =>
            IsKnownPassed(sandbox) || (sandbox.Cluster != null && (sandbox.EngineState == "exited" || sandbox.EngineState == "lost"));

        /// <summary>
        /// When the background removal takes a sandbox whose deadline passes: a running one once PID 1 had its turn; a
        /// suspended one (PID 1 frozen) at once. Null: no deadline.
        /// </summary>
        public static DateTime? BackstopAt(Sandbox sandbox) =>
            sandbox.ExpiresAt is DateTime expiresAt ? expiresAt + (sandbox.EngineState == "running" ? GuardFirst : TimeSpan.Zero) : (DateTime?)null;

        /// <summary>What the background removal takes now: what is over, but a running sandbox only once PID 1 had its turn.</summary>
        public static bool IsDueForBackstop(Sandbox sandbox, DateTime nowUtc) =>
            IsOver(sandbox) && !(BackstopAt(sandbox) is DateTime at && at > nowUtc && sandbox.EngineState == "running");

        // ---- what this process knows ----------------------------------------------------------------------------------

        internal static void Remember(Sandbox sandbox)
        {
            MovedHere[sandbox.Id] = (sandbox.ExpiresAt, Interlocked.Increment(ref _stamp));
            if (MovedHere.Count > MovedHereLimit)
                foreach (var oldest in MovedHere.OrderBy(kv => kv.Value.Stamp).Take(MovedHere.Count - MovedHereLimit).ToList())
                    MovedHere.TryRemove(oldest.Key, out _);
        }

        internal static bool IsMovedHere(string id) => MovedHere.ContainsKey(id);

        /// <summary>A sandbox object made from labels gets the deadline this process moved it to.</summary>
        internal static void ApplyKnown(Sandbox sandbox)
        {
            if (MovedHere.TryGetValue(sandbox.Id, out var known)) sandbox.ExpiresAt = known.ExpiresAt;
        }

        internal static void Forget(string id) => MovedHere.TryRemove(id, out _);

        internal static void ForgetAll() => MovedHere.Clear();

        internal static int KnownCount => MovedHere.Count;

        // ---- the engine's truth ---------------------------------------------------------------------------------------

        /// <summary>Reads the deadline file, asking again when the engine fails; Unreadable only after the last try.</summary>
        public async Task<DeadlineFileRead> ReadFileAsync(string id, CancellationToken cancel)
        {
            for (var attempt = 0; ; attempt++)
            {
                string error;
                try { return await ReadFileOnceAsync(id, cancel).ConfigureAwait(false); }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested) { throw; }
                catch (DockerApiException e) { error = $"the engine answered {(int)e.StatusCode}: {EngineErrors.Message(e)}"; }
                catch (Exception e) { error = e.Message; }
                if (attempt >= ReadRetryDelays.Length) return DeadlineFileRead.Unreadable(error);
                await Task.Delay(ReadRetryDelays[attempt], cancel).ConfigureAwait(false);
            }
        }

        async Task<DeadlineFileRead> ReadFileOnceAsync(string id, CancellationToken cancel)
        {
            var text = await ReadVolumeFileOnceAsync(id, DeadlineGuard.FilePath, cancel).ConfigureAwait(false);
            return text != null && DeadlineGuard.TryParse(text, out var deadline) ? DeadlineFileRead.Present(deadline) : DeadlineFileRead.Absent;
        }

        /// <summary>A small file of the deadline folder as the sandbox sees it; null when there is none (or no sandbox).</summary>
        async Task<string?> ReadVolumeFileOnceAsync(string id, string path, CancellationToken cancel)
        {
            System.IO.Stream? archive;
            try { archive = (await _engine.Client.Containers.GetArchiveFromContainerAsync(id, new ContainerPathStatParameters { Path = path }, false, cancel).ConfigureAwait(false)).Stream; }
            // No such file (never moved), or no such sandbox (then nothing is left to expire).
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { return null; }
            using var stream = archive;
            if (stream == null) return null;
            var reader = new TarReader(stream);
            var entry = await reader.NextAsync(cancel).ConfigureAwait(false);
            if (entry == null || entry.Type != TarEntryType.File || entry.Size > 64) return null;
            using var content = new System.IO.MemoryStream();
            await reader.CopyDataAsync(content, null, cancel).ConfigureAwait(false);
            return Encoding.ASCII.GetString(content.ToArray());
        }

        /// <summary>
        /// Brings the object's deadline in line with the file (another process may have moved it); a file that cannot be
        /// read marks the deadline unknown. Returns what was read.
        /// </summary>
        public async Task<DeadlineFileRead> RefreshAsync(Sandbox sandbox, CancellationToken cancel)
        {
            var read = await ReadFileAsync(sandbox.Id, cancel).ConfigureAwait(false);
            sandbox.DeadlineUnknown = read.State == DeadlineFileState.Unreadable;
            if (read.State == DeadlineFileState.Present && !SameDeadline(read.DeadlineUtc, sandbox.ExpiresAt))
            {
                sandbox.ExpiresAt = read.DeadlineUtc;
                Remember(sandbox);
            }
            return read;
        }

        /// <summary>Whether a deadline read from the file is the one already known (the file rounds up to whole seconds).</summary>
        public static bool SameDeadline(DateTime? fromFile, DateTime? known) =>
            fromFile == known || (fromFile is DateTime f && known is DateTime k && (f - k).Duration() <= FilePrecision);

        /// <summary>
        /// Moves the deadline to <paramref name="timeoutSec"/> seconds after <paramref name="fromUtc"/> (now when null; 0:
        /// no deadline) in every layer: the file PID 1 watches, this process's knowledge and the object.
        /// </summary>
        /// <param name="writer">A deadline writer made beforehand (<see cref="CreateWriterAsync"/>); the caller removes it.</param>
        public async Task MoveAsync(Sandbox sandbox, int timeoutSec, DateTime? fromUtc, DeadlineWriter? writer, CancellationToken cancel)
        {
            if (sandbox.SuspendedAt != null)
                throw new SandboxException("SandboxSuspended", SandboxErrorKind.InvalidOperation,
                    $"Sandbox '{sandbox.Name}' is suspended: its deadline cannot move while it is.", sandbox.Name, "Resume it with Resume-Sandbox first.");
            var from = fromUtc ?? DateTime.UtcNow;
            DateTime? engineDeadline = null;
            if (timeoutSec > 0)
            {
                engineDeadline = from + await ClockOffsetAsync(cancel).ConfigureAwait(false) + TimeSpan.FromSeconds(timeoutSec);
            }
            await WriteFileAsync(sandbox, engineDeadline, writer, cancel).ConfigureAwait(false);
            sandbox.TimeoutSec = timeoutSec;
            sandbox.ExpiresAt = timeoutSec > 0 ? from.AddSeconds(timeoutSec) : (DateTime?)null;
            sandbox.DeadlineUnknown = false;
            Remember(sandbox);
        }

        /// <summary>
        /// A never-started container holding the sandbox's deadline volume read-write. With <paramref name="findLocalFolder"/>
        /// (for a pool member, whose take must be quick) it also looks for the volume's folder on this machine.
        /// </summary>
        public async Task<DeadlineWriter> CreateWriterAsync(Sandbox sandbox, bool findLocalFolder, CancellationToken cancel)
        {
            var volume = DeadlineVolumeOf(sandbox);
            string id;
            try
            {
                // The writer would otherwise re-create the volume of a sandbox that is gone, unlabelled.
                await _engine.Client.Containers.InspectContainerAsync(sandbox.Id, cancel).ConfigureAwait(false);
                id = (await _engine.Client.Containers.CreateContainerAsync(ContainerSettings.ForDeadlineWriter(sandbox, volume), cancel).ConfigureAwait(false)).ID;
            }
            catch (Exception e) { throw WriteFailure(e, sandbox); }
            return new DeadlineWriter(id, findLocalFolder ? await LocalFolderAsync(volume, id, cancel).ConfigureAwait(false) : null);
        }

        /// <summary>
        /// Writing through the engine re-executes the engine to unpack the archive (some 40 ms); a local engine's volume is
        /// a folder on this machine, written in microseconds. Used only when the folder is seen to be the volume: a token
        /// written through the engine must show up there (an engine in a VM, or another user's, fails that).
        /// </summary>
        async Task<string?> LocalFolderAsync(string volume, string writerId, CancellationToken cancel)
        {
            if (!_engine.Endpoint.IsLocal) return null;
            try
            {
                var folder = (await _engine.Client.Volumes.InspectAsync(volume, cancel).ConfigureAwait(false)).Mountpoint;
                if (string.IsNullOrEmpty(folder) || !System.IO.Directory.Exists(folder)) return null;
                var token = Guid.NewGuid().ToString("N");
                using (var archive = DeadlineGuard.Archive(ProbeFileName, token))
                    await _engine.Client.Containers.ExtractArchiveToContainerAsync(writerId, new CopyToContainerParameters { Path = DeadlineGuard.Folder }, archive, cancel).ConfigureAwait(false);
                var probe = System.IO.Path.Combine(folder, ProbeFileName);
                var seen = System.IO.File.Exists(probe) && System.IO.File.ReadAllText(probe).Trim() == token;
                System.IO.File.Delete(probe);
                return seen ? folder : null;
            }
            catch (Exception) { return null; /* no access to the folder (another user's engine): the engine writes instead */ }
        }

        const string ProbeFileName = ".probe";

        /// <summary>
        /// Removes a deadline writer. A failure is not the caller's (it must not hide what the caller did or failed to do):
        /// one left behind carries the module's helper label, and a sweep removes it once its sandbox is gone.
        /// </summary>
        internal async Task RemoveWriterQuietlyAsync(DeadlineWriter writer)
        {
            try { await _engine.Client.Containers.RemoveContainerAsync(writer.ContainerId, new ContainerRemoveParameters { Force = true }, CancellationToken.None).ConfigureAwait(false); }
            catch (Exception) { /* gone already, or left to the sweep (above) */ }
        }

        async Task<TimeSpan> ClockOffsetAsync(CancellationToken cancel)
        {
            try { return await EngineClock.OffsetAsync(_engine, cancel).ConfigureAwait(false); }
            catch (Exception e) when (!(e is OperationCanceledException)) { throw DockerEngine.Translate(e, _engine.Endpoint); }
        }

        Task WriteFileAsync(Sandbox sandbox, DateTime? engineDeadline, DeadlineWriter? given, CancellationToken cancel) =>
            WriteFilesAsync(sandbox, new[] { (DeadlineGuard.FileName, DeadlineGuard.FileText(engineDeadline)) }, given, cancel);

        /// <summary>Writes files of the deadline folder in the order given (the deadline file last, so that it is never ahead of the rest).</summary>
        async Task WriteFilesAsync(Sandbox sandbox, (string Name, string Text)[] files, DeadlineWriter? given, CancellationToken cancel)
        {
            if (given?.LocalFolder is string folder && files.All(f => TryWriteLocally(folder, f.Name, f.Text))) return;
            var writer = given ?? await CreateWriterAsync(sandbox, findLocalFolder: false, cancel).ConfigureAwait(false);
            try
            {
                using var archive = DeadlineGuard.Archive(files);
                await _engine.Client.Containers.ExtractArchiveToContainerAsync(writer.ContainerId, new CopyToContainerParameters { Path = DeadlineGuard.Folder }, archive, cancel).ConfigureAwait(false);
            }
            catch (Exception e) { throw WriteFailure(e, sandbox); }
            finally
            {
                if (given == null) await RemoveWriterQuietlyAsync(writer).ConfigureAwait(false);
            }
        }

        /// <summary>Written beside it and renamed over it, so that PID 1 never reads half a file; false: let the engine write.</summary>
        static bool TryWriteLocally(string folder, string name, string text)
        {
            var target = System.IO.Path.Combine(folder, name);
            var temporary = System.IO.Path.Combine(folder, "." + name + "." + Guid.NewGuid().ToString("N"));
            try
            {
                System.IO.File.WriteAllText(temporary, text);
                if (System.IO.File.Exists(target)) System.IO.File.Replace(temporary, target, null);
                else System.IO.File.Move(temporary, target);
                return true;
            }
            catch (Exception)
            {
                try { System.IO.File.Delete(temporary); } catch (Exception) { /* the volume goes with its sandbox */ }
                return false;
            }
        }

        static string DeadlineVolumeOf(Sandbox sandbox) =>
            sandbox.Labels.TryGetValue(SandboxLabels.DeadlineVolume, out var volume) ? volume
            : throw new SandboxException("SetTimeoutNotSupported", SandboxErrorKind.InvalidOperation,
                $"Sandbox '{sandbox.Name}' was made by an older version of the module, without a deadline volume; its deadline cannot move.", sandbox.Name);

        Exception WriteFailure(Exception e, Sandbox sandbox) => e switch
        {
            SandboxException s => s,
            OperationCanceledException c => c,
            DockerApiException api when api.StatusCode == HttpStatusCode.NotFound =>
                SandboxGone.NotFound(sandbox, e),
            DockerApiException api => new SandboxException("SetTimeoutFailed", SandboxErrorKind.InvalidOperation,
                $"Could not move the deadline of sandbox '{sandbox.Name}': {EngineErrors.Message(api)}", sandbox.Name, null, e),
            _ => DockerEngine.Translate(e, _engine.Endpoint),
        };
    }
}
