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

        const int Samples = 3;

        public static async Task<TimeSpan> OffsetAsync(DockerEngine engine, CancellationToken cancel)
        {
            if (engine.Endpoint.IsLocal) return TimeSpan.Zero;
            if (Offsets.TryGetValue(engine.Endpoint.CacheKey, out var known)) return known;
            // A first call over a fresh connection pays for its set-up (an SSH channel, JIT) before the engine reads its
            // clock, which moved the midpoint by up to 0.65 s on this machine's own engine: a ping pays it first. Of three
            // samples the one with the shortest round trip wins; its error is at most half that round trip.
            await engine.Client.System.PingAsync(cancel).ConfigureAwait(false);
            var samples = new ClockSample[Samples];
            for (var i = 0; i < Samples; i++)
            {
                var sent = DateTime.UtcNow;
                var engineNow = await NowAsync(engine, cancel).ConfigureAwait(false);
                samples[i] = new ClockSample(sent, DateTime.UtcNow, engineNow);
            }
            return Offsets[engine.Endpoint.CacheKey] = BestOffset(samples);
        }

        /// <summary>The engine's clock minus ours, from the sample with the shortest round trip (its midpoint).</summary>
        internal static TimeSpan BestOffset(ClockSample[] samples)
        {
            var best = samples[0];
            foreach (var sample in samples)
                if (sample.RoundTrip < best.RoundTrip) best = sample;
            return best.Engine - (best.Sent + TimeSpan.FromTicks(best.RoundTrip.Ticks / 2));
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
