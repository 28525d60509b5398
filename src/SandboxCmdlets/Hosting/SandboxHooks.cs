using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Sandbox.Lifecycle;

namespace Sandbox.Hosting
{
    /// <summary>
    /// What PowerShell hears when a sandbox ends: its -OnKill hook, and the Sandbox.Stopped / Sandbox.Expired /
    /// Sandbox.RemovalFailed engine events. A hook always runs on its own runspace's pipeline thread: at once when the
    /// runspace that stops the sandbox owns it, otherwise as an engine-event action queued onto the owner.
    /// </summary>
    public static class SandboxHooks
    {
        public const string StoppedEvent = "Sandbox.Stopped";
        public const string ExpiredEvent = "Sandbox.Expired";
        public const string RemovalFailedEvent = "Sandbox.RemovalFailed";
        const string KillEventPrefix = "Sandbox.OnKill.";

        sealed class Hook
        {
            public PSEventManager Events = null!;
            public ScriptBlock OnKill = null!;
        }

        static readonly ConcurrentDictionary<string, Hook> Hooks = new ConcurrentDictionary<string, Hook>();
        static readonly ConcurrentDictionary<PSEventManager, bool> Runspaces = new ConcurrentDictionary<PSEventManager, bool>();
        /// <summary>Sandboxes whose end was announced, so that a Stop-Sandbox racing the cleanup engine announces it once.</summary>
        static readonly BoundedIdSet Announced = new BoundedIdSet(4096);
        /// <summary>What the cleanup engine could not do, for the next cmdlet to show as a warning.</summary>
        static readonly ConcurrentQueue<string> PendingWarnings = new ConcurrentQueue<string>();
        const int PendingWarningsLimit = 100;
        static int _subscribed;

        /// <summary>Runs <paramref name="block"/> with the sandbox as $_ and $args[0]; returns its output.</summary>
        public static ICollection<PSObject> Invoke(ScriptBlock block, Sandbox sandbox) =>
            block.InvokeWithContext(null, new List<PSVariable> { new PSVariable("_", sandbox) }, sandbox);

        /// <summary>The calling runspace hears events from now on, until it closes.</summary>
        public static void Attach(PSEventManager events)
        {
            if (Runspaces.TryAdd(events, true) && Runspace.DefaultRunspace is Runspace runspace)
                runspace.StateChanged += (_, e) =>
                {
                    if (e.RunspaceStateInfo.State == RunspaceState.Closed || e.RunspaceStateInfo.State == RunspaceState.Broken) Detach(events);
                };
            if (System.Threading.Interlocked.Exchange(ref _subscribed, 1) == 0)
            {
                CleanupEngine.Instance.Expired += OnExpired;
                CleanupEngine.Instance.Lost += OnLost;
                CleanupEngine.Instance.Problem += OnProblem;
                SandboxDeadlines.PushFailed += OnPushFailed;
            }
        }

        static void OnPushFailed(Sandbox sandbox, Exception e)
        {
            if (PendingWarnings.Count < PendingWarningsLimit)
                PendingWarnings.Enqueue($"The idle deadline of sandbox '{sandbox.Name}' could not be pushed: {SandboxException.FromUnexpected(e).Message} It keeps the deadline it had; the next use tries again.");
        }

        /// <summary>A closed runspace (a job's, a finished one) hears no more events, and its hooks go with it.</summary>
        public static void Detach(PSEventManager events)
        {
            Runspaces.TryRemove(events, out _);
            foreach (var hook in Hooks.Where(kv => ReferenceEquals(kv.Value.Events, events)).ToList())
                ((ICollection<KeyValuePair<string, Hook>>)Hooks).Remove(hook);
        }

        internal static int AttachedCount => Runspaces.Count;
        internal static int HookCount => Hooks.Count;

        public static void RegisterOnKill(PSEventManager events, Sandbox sandbox, ScriptBlock onKill)
        {
            Attach(events);
            var action = ScriptBlock.Create(
                "try { $null = $Event.SourceArgs[1].InvokeWithContext($null, [System.Collections.Generic.List[psvariable]]@([psvariable]::new('_', $Event.SourceArgs[0])), $Event.SourceArgs[0]) } " +
                "catch { Write-Warning \"The -OnKill hook of sandbox '$($Event.SourceArgs[0].Name)' failed: $_\" } " +
                "finally { Unregister-Event -SourceIdentifier $Event.SourceIdentifier -ErrorAction SilentlyContinue }");
            events.SubscribeEvent(null, null, KillEventPrefix + sandbox.Id, null, action, true, false);
            Hooks[sandbox.Id] = new Hook { Events = events, OnKill = onKill };
        }

        /// <summary>
        /// The one announcement of a removed sandbox, whichever path removed it: its -OnKill hook (at once when
        /// <paramref name="caller"/> owns it), the completion cache, then Sandbox.Stopped or Sandbox.Expired. Once per sandbox.
        /// </summary>
        public static void Removed(Sandbox sandbox, bool expired, PSEventManager? caller = null, Action<string>? warn = null)
        {
            if (!Announced.Add(sandbox.Id)) return;
            RunOnKill(sandbox, caller, warn);
            Completion.CompletionSource.Invalidate();
            Broadcast(expired ? ExpiredEvent : StoppedEvent, sandbox);
        }

        static void RunOnKill(Sandbox sandbox, PSEventManager? caller, Action<string>? warn)
        {
            if (!Hooks.TryRemove(sandbox.Id, out var hook)) return;
            if (caller == null || warn == null || !ReferenceEquals(hook.Events, caller))
            {
                // The owning session runs it, through its subscription's action (which then unregisters itself).
                hook.Events.GenerateEvent(KillEventPrefix + sandbox.Id, null, new object[] { sandbox, hook.OnKill }, null);
                return;
            }
            foreach (var subscriber in hook.Events.Subscribers.Where(s => s.SourceIdentifier == KillEventPrefix + sandbox.Id).ToList())
                hook.Events.UnsubscribeEvent(subscriber);
            try { Invoke(hook.OnKill, sandbox); }
            catch (Exception e) { warn($"The -OnKill hook of sandbox '{sandbox.Name}' failed: {(e is RuntimeException r ? r.ErrorRecord.ToString() : e.Message)}"); }
        }

        /// <summary>Only to runspaces that subscribed, so that nobody's event queue fills with events no one asked for.</summary>
        static void Broadcast(string sourceIdentifier, object argument)
        {
            foreach (var events in Runspaces.Keys)
            {
                try
                {
                    if (events.Subscribers.Any(s => string.Equals(s.SourceIdentifier, sourceIdentifier, StringComparison.OrdinalIgnoreCase)))
                        events.GenerateEvent(sourceIdentifier, null, new object[] { argument }, null);
                }
                catch (Exception) { Detach(events); /* a runspace that closed without saying so: nobody listens there any more */ }
            }
        }

        static void OnExpired(Sandbox sandbox) => Removed(sandbox, expired: true);

        /// <summary>Its node went down: the sandbox ended early, which its maker hears as a warning and as a stop.</summary>
        static void OnLost(Sandbox sandbox)
        {
            if (PendingWarnings.Count < PendingWarningsLimit) PendingWarnings.Enqueue($"Sandbox '{sandbox.Name}' was lost: its node {sandbox.Node} ({sandbox.NodeAddress}) of cluster {sandbox.Cluster} is down. Its service was removed; the other sandboxes of the cluster are untouched.");
            Removed(sandbox, expired: false);
        }

        static void OnProblem(CleanupProblem problem)
        {
            if (PendingWarnings.Count < PendingWarningsLimit) PendingWarnings.Enqueue(problem.Message);
            if (problem.Kind == CleanupProblem.RemovalFailing) Broadcast(RemovalFailedEvent, problem);
        }

        /// <summary>The cleanup engine's reports since the last call, for a cmdlet to write as warnings.</summary>
        public static IEnumerable<string> TakeWarnings()
        {
            while (PendingWarnings.TryDequeue(out var message)) yield return message;
        }

        public static void Reset()
        {
            if (System.Threading.Interlocked.Exchange(ref _subscribed, 0) == 1 && CleanupEngine.IsCreated)
            {
                CleanupEngine.Instance.Expired -= OnExpired;
                CleanupEngine.Instance.Lost -= OnLost;
                CleanupEngine.Instance.Problem -= OnProblem;
            }
            SandboxDeadlines.PushFailed -= OnPushFailed;
            Hooks.Clear();
            Runspaces.Clear();
            Announced.Clear();
            while (PendingWarnings.TryDequeue(out _)) { }
        }
    }
}
