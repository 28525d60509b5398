using System;
using System.Linq;
using System.Management.Automation;
using Sandbox.Completion;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;
using Sandbox.Observe;

namespace Sandbox.Commands
{
    /// <summary>
    /// What the engine did to this module's sandboxes (any process's): created, started, command, oom, died, expired, removed,
    /// suspended, resumed, snapshot. Without -Wait: the events of the last hour (or since -Since), then it ends.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "SandboxEvent")]
    [OutputType(typeof(SandboxEvent))]
    public sealed class GetSandboxEventCommand : SandboxCmdletBase
    {
        static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(1);

        /// <summary>Events from this time on. Default: an hour ago; with -Wait, now (only new events).</summary>
        [Parameter]
        public DateTime Since { get; set; }

        /// <summary>Events up to this time. Default: now; with -Wait, none (until Ctrl+C).</summary>
        [Parameter]
        public DateTime Until { get; set; }

        /// <summary>Keep streaming new events until Ctrl+C (or -Until).</summary>
        [Parameter]
        public SwitchParameter Wait { get; set; }

        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SandboxNameCompleter))]
        public string[]? Name { get; set; }

        /// <summary>Full ids or id prefixes.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SandboxIdCompleter))]
        public string[]? Id { get; set; }

        [Parameter]
        [ValidateSet(EventKinds.Created, EventKinds.Started, EventKinds.Command, EventKinds.Oom, EventKinds.Died, EventKinds.Expired,
            EventKinds.Removed, EventKinds.Suspended, EventKinds.Resumed, EventKinds.Snapshot)]
        public string[]? Kind { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? DockerHost { get; set; }

        protected override void EndProcessing()
        {
            var hasSince = MyInvocation.BoundParameters.ContainsKey(nameof(Since));
            var hasUntil = MyInvocation.BoundParameters.ContainsKey(nameof(Until));
            if (hasSince && hasUntil && ToUtc(Until) < ToUtc(Since))
                ThrowSandboxError(new SandboxException("InvalidTimeRange", SandboxErrorKind.InvalidArgument, "-Until is before -Since: no event can be in between.", Until));
            WildcardPattern[] names;
            try { names = (Name ?? Array.Empty<string>()).Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToArray(); }
            catch (WildcardPatternException e) { ThrowTerminatingError(InvalidWildcard(string.Join(", ", Name!), e)); return; }

            DockerEndpoint endpoint;
            try { endpoint = ResolveEndpoint(DockerHost); }
            catch (SandboxException e) { ThrowSandboxError(e); return; }
            KnownEndpoints.Remember(endpoint);

            try
            {
                Run(async c =>
                {
                    var engine = await DockerEngine.ConnectAsync(endpoint, c).ConfigureAwait(false);
                    var offset = await EngineClock.OffsetAsync(engine, c).ConfigureAwait(false);
                    var now = DateTime.UtcNow;
                    var since = hasSince ? ToUtc(Since) : Wait ? now : now - DefaultWindow;
                    // "Until now" is read on the engine's clock: an offset known only to some milliseconds would cut off
                    // what happened just before the call (the removal a Stop-Sandbox just made).
                    DateTime? untilEngine = hasUntil ? ToUtc(Until) + offset
                        : Wait ? (DateTime?)null
                        : engine.Endpoint.IsLocal ? now : await EngineClock.NowAsync(engine, c).ConfigureAwait(false);
                    await EventReader.ReadAsync(engine, since + offset, untilEngine, e =>
                    {
                        e.Time -= offset;
                        if (Matches(e, names)) Post(() => WriteObject(e));
                    }, c).ConfigureAwait(false);
                });
            }
            catch (SandboxException e) { ThrowSandboxError(e); }
        }

        bool Matches(SandboxEvent e, WildcardPattern[] names)
        {
            if (names.Length > 0 && !names.Any(n => n.IsMatch(e.Name))) return false;
            if (Id != null && !Id.Any(i => e.Id.StartsWith(i.Trim(), StringComparison.OrdinalIgnoreCase))) return false;
            if (Kind != null && !Kind.Contains(e.Kind, StringComparer.OrdinalIgnoreCase)) return false;
            return true;
        }

        static DateTime ToUtc(DateTime time) => time.Kind == DateTimeKind.Utc ? time : time.ToUniversalTime();
    }
}
