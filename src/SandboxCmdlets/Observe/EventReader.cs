using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

// The raw-stream overloads are marked obsolete in favour of the IProgress ones, which cannot be stopped promptly (see JsonLineStream).
#pragma warning disable CS0618

namespace Sandbox.Observe
{
    /// <summary>The engine's event stream, narrowed to this module's sandboxes (by label, so another process's count too).</summary>
    public static class EventReader
    {
        /// <summary>
        /// The events from <paramref name="sinceEngine"/> (engine clock, UTC) to <paramref name="untilEngine"/>, or on until
        /// <paramref name="cancel"/> when that is null. The engine keeps only its last 256 events (or so) for -Since.
        /// </summary>
        public static Task ReadAsync(DockerEngine engine, DateTime? sinceEngine, DateTime? untilEngine, Action<SandboxEvent> onEvent, CancellationToken cancel)
        {
            var parameters = new ContainerEventsParameters
            {
                Since = sinceEngine is DateTime since ? Stamp(since) : null,
                Until = untilEngine is DateTime until ? Stamp(until) : null,
                Filters = new Dictionary<string, IDictionary<string, bool>>
                {
                    ["type"] = new Dictionary<string, bool> { ["container"] = true },
                    ["label"] = new Dictionary<string, bool> { [SandboxLabels.Managed + "=true"] = true },
                    ["event"] = ActionFilter(),
                },
            };
            return JsonLineStream.ReadAsync<Message>(() => engine.Client.System.MonitorEventsAsync(parameters, cancel), message =>
            {
                if (EventKinds.ToEvent(message, engine.Endpoint.Host) is { } e) onEvent(e);
            }, cancel);
        }

        static IDictionary<string, bool> ActionFilter()
        {
            var filter = new Dictionary<string, bool>();
            foreach (var action in EventKinds.EngineActions) filter[action] = true;
            return filter;
        }

        /// <summary>The engine's timestamp form: Unix seconds with nanoseconds.</summary>
        public static string Stamp(DateTime utc)
        {
            var ticks = (utc.ToUniversalTime() - UnixTime.Epoch).Ticks;
            if (ticks < 0) ticks = 0;
            return (ticks / TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture) + "." +
                   (ticks % TimeSpan.TicksPerSecond * 100).ToString("000000000", CultureInfo.InvariantCulture);
        }
    }
}
