using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Sandbox.Lifecycle;

namespace Sandbox.Hosting
{
    /// <summary>
    /// -OnKill hooks and the Sandbox.Stopped / Sandbox.Expired engine events. A hook always runs on its own runspace's
    /// pipeline thread: on Stop-Sandbox directly, on expiry as a PowerShell engine-event action queued from the cleanup thread.
    /// </summary>
    public static class SandboxHooks
    {
        public const string StoppedEvent = "Sandbox.Stopped";
        public const string ExpiredEvent = "Sandbox.Expired";
        const string KillEventPrefix = "Sandbox.OnKill.";

        sealed class Hook
        {
            public PSEventManager Events = null!;
            public ScriptBlock OnKill = null!;
        }

        static readonly ConcurrentDictionary<string, Hook> Hooks = new ConcurrentDictionary<string, Hook>();
        static readonly ConcurrentDictionary<PSEventManager, bool> Runspaces = new ConcurrentDictionary<PSEventManager, bool>();
        static int _subscribed;

        /// <summary>Runs <paramref name="block"/> with the sandbox as $_ and $args[0]; returns its output.</summary>
        public static ICollection<PSObject> Invoke(ScriptBlock block, Sandbox sandbox) =>
            block.InvokeWithContext(null, new List<PSVariable> { new PSVariable("_", sandbox) }, sandbox);

        public static void Attach(PSEventManager events)
        {
            Runspaces[events] = true;
            if (System.Threading.Interlocked.Exchange(ref _subscribed, 1) == 0)
                CleanupEngine.Instance.Expired += OnExpired;
        }

        /// <summary>A runspace that is closing (a job's) hears no more events.</summary>
        public static void Detach(PSEventManager events) => Runspaces.TryRemove(events, out _);

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

        /// <summary>Runs a sandbox's -OnKill hook now, on the calling pipeline thread; false when it has none here.</summary>
        public static bool TryRunOnKill(PSEventManager events, Sandbox sandbox, Action<string> warn)
        {
            if (!Hooks.TryRemove(sandbox.Id, out var hook)) return false;
            if (!ReferenceEquals(hook.Events, events))
            {
                // The owning session runs it, through its subscription's action (which then unregisters itself).
                hook.Events.GenerateEvent(KillEventPrefix + sandbox.Id, null, new object[] { sandbox, hook.OnKill }, null);
                return true;
            }
            foreach (var subscriber in hook.Events.Subscribers.Where(s => s.SourceIdentifier == KillEventPrefix + sandbox.Id).ToList())
                hook.Events.UnsubscribeEvent(subscriber);
            try { Invoke(hook.OnKill, sandbox); }
            catch (Exception e) { warn($"The -OnKill hook of sandbox '{sandbox.Name}' failed: {(e is RuntimeException r ? r.ErrorRecord.ToString() : e.Message)}"); }
            return true;
        }

        public static void RaiseStopped(Sandbox sandbox)
        {
            Broadcast(StoppedEvent, sandbox);
        }

        /// <summary>Only to runspaces that subscribed, so that nobody's event queue fills with events no one asked for.</summary>
        static void Broadcast(string sourceIdentifier, Sandbox sandbox)
        {
            foreach (var events in Runspaces.Keys)
            {
                try
                {
                    if (events.Subscribers.Any(s => string.Equals(s.SourceIdentifier, sourceIdentifier, StringComparison.OrdinalIgnoreCase)))
                        events.GenerateEvent(sourceIdentifier, null, new object[] { sandbox }, null);
                }
                catch (Exception) { /* a closed runspace: nobody is listening there any more */ }
            }
        }

        static void OnExpired(Sandbox sandbox)
        {
            if (Hooks.TryRemove(sandbox.Id, out var hook))
                hook.Events.GenerateEvent(KillEventPrefix + sandbox.Id, null, new object[] { sandbox, hook.OnKill }, null);
            Broadcast(ExpiredEvent, sandbox);
        }

        public static void Reset()
        {
            if (System.Threading.Interlocked.Exchange(ref _subscribed, 0) == 1 && CleanupEngine.IsCreated)
                CleanupEngine.Instance.Expired -= OnExpired;
            Hooks.Clear();
            Runspaces.Clear();
        }
    }
}
