using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Endpoints;

namespace Sandbox.Lifecycle
{
    /// <summary>
    /// The engine host's clock, which PID 1 compares its deadline with. A local engine shares ours; a remote one's
    /// offset is asked once per process.
    /// </summary>
    public static class EngineClock
    {
        static readonly ConcurrentDictionary<string, TimeSpan> Offsets = new ConcurrentDictionary<string, TimeSpan>();

        public static async Task<TimeSpan> OffsetAsync(DockerEngine engine, CancellationToken cancel)
        {
            if (engine.Endpoint.IsLocal) return TimeSpan.Zero;
            if (Offsets.TryGetValue(engine.Endpoint.CacheKey, out var known)) return known;
            var before = DateTime.UtcNow;
            var engineNow = await NowAsync(engine, cancel).ConfigureAwait(false);
            var offset = engineNow - (before + TimeSpan.FromTicks((DateTime.UtcNow - before).Ticks / 2));
            return Offsets[engine.Endpoint.CacheKey] = offset;
        }

        /// <summary>The offset when it is already known (a local engine's is zero); null when it must be asked.</summary>
        public static TimeSpan? Known(DockerEngine engine) =>
            engine.Endpoint.IsLocal ? TimeSpan.Zero : Offsets.TryGetValue(engine.Endpoint.CacheKey, out var known) ? known : (TimeSpan?)null;

        /// <summary>The engine's time now, as the engine reports it.</summary>
        public static async Task<DateTime> NowAsync(DockerEngine engine, CancellationToken cancel)
        {
            var info = await engine.Client.System.GetSystemInfoAsync(cancel).ConfigureAwait(false);
            // The engine gives nanoseconds; .NET reads at most seven digits of a fraction.
            var text = Regex.Replace(info.SystemTime ?? "", @"(\.\d{7})\d+", "$1");
            return DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time)
                ? time : DateTime.UtcNow;
        }

        /// <summary>For module removal: offsets are asked again by the next import.</summary>
        public static void Forget() => Offsets.Clear();
    }
}
