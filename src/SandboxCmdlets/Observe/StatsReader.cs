using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

// The raw-stream overloads are marked obsolete in favour of the IProgress ones, which cannot be stopped promptly (see JsonLineStream).
#pragma warning disable CS0618

namespace Sandbox.Observe
{
    /// <summary>Reads a sandbox's resource use from the engine that runs it.</summary>
    public static class StatsReader
    {
        /// <summary>
        /// One reading, as docker stats --no-stream: the engine takes two samples about a second apart, so that CPU % covers
        /// that second.
        /// </summary>
        public static async Task<SandboxStats> ReadOnceAsync(DockerEngine engine, Sandbox sandbox, CancellationToken cancel)
        {
            ContainerStatsResponse? last = null;
            await Call(sandbox, () => JsonLineStream.ReadAsync<ContainerStatsResponse>(
                () => engine.Client.Containers.GetContainerStatsAsync(sandbox.Id, new ContainerStatsParameters { Stream = false }, cancel),
                r => last = r, cancel)).ConfigureAwait(false);
            if (last == null) throw SandboxGone.NotFound(sandbox);
            if (last.Read == default)
                throw new SandboxException("SandboxNotRunning", SandboxErrorKind.InvalidOperation,
                    $"Sandbox '{sandbox.Name}' ({sandbox.ShortId}) is not running: a sandbox that is not running uses no resources.", sandbox.Name);
            return StatsCalculator.ToStats(last, sandbox);
        }

        /// <summary>
        /// A reading every second (the engine's interval) until <paramref name="cancel"/>, or until the sandbox is gone
        /// (then it throws SandboxNotFound). The engine's first sample has no earlier one to take CPU % from: it is skipped.
        /// </summary>
        public static Task WatchAsync(DockerEngine engine, Sandbox sandbox, Action<SandboxStats> onReading, CancellationToken cancel) =>
            Call(sandbox, async () =>
            {
                await JsonLineStream.ReadAsync<ContainerStatsResponse>(
                    () => engine.Client.Containers.GetContainerStatsAsync(sandbox.Id, new ContainerStatsParameters { Stream = true }, cancel),
                    r =>
                    {
                        // A container that stopped streams zero readings until it is removed.
                        if (r.Read == default || !StatsCalculator.HasPreviousSample(r)) return;
                        onReading(StatsCalculator.ToStats(r, sandbox));
                    }, cancel).ConfigureAwait(false);
                cancel.ThrowIfCancellationRequested();
                // The engine ends the stream when the container goes.
                throw SandboxGone.NotFound(sandbox);
            });

        static async Task Call(Sandbox sandbox, Func<Task> call)
        {
            try { await call().ConfigureAwait(false); }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound) { throw SandboxGone.NotFound(sandbox, e); }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.Conflict) { throw SandboxGone.NotRunning(sandbox.Id, e); }
        }
    }
}
