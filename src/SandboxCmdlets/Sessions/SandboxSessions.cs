using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;

namespace Sandbox.Sessions
{
    /// <summary>
    /// The shell sessions of this PowerShell process. Sessions are not on the engine: another process neither sees nor uses
    /// them. A session's name is unique among the open sessions of its sandbox. Sessions that close with their sandbox
    /// (removed, or past its deadline) leave the list; a Broken one stays until it is removed or its name is reused.
    /// </summary>
    public static class SandboxSessions
    {
        static readonly object Gate = new object();
        static readonly List<SandboxSession> Sessions = new List<SandboxSession>();
        /// <summary>Names being opened, as "sandboxId/name", so that two callers cannot open the same name at once.</summary>
        static readonly HashSet<string> Opening = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        public static IReadOnlyList<SandboxSession> All
        {
            get { lock (Gate) return Sessions.ToArray(); }
        }

        /// <summary>Opens a shell session in <paramref name="sandbox"/>; without a name it gets the first free "SessionN".</summary>
        public static async Task<SandboxSession> OpenAsync(Sandbox sandbox, DockerEngine engine, string? name, CancellationToken cancel)
        {
            string key;
            lock (Gate)
            {
                name ??= FreeName(sandbox.Id);
                if (Sessions.Any(s => s.SandboxId == sandbox.Id && s.State == SandboxSession.OpenState && string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)))
                    throw Exists(sandbox, name);
                key = sandbox.Id + "/" + name;
                if (!Opening.Add(key)) throw Exists(sandbox, name);
            }
            try
            {
                var shell = await ShellChannel.OpenAsync(engine, sandbox, $"'{name}' (sandbox '{sandbox.Name}')", cancel).ConfigureAwait(false);
                var session = new SandboxSession(name, NewId(), sandbox, engine, shell);
                lock (Gate)
                {
                    Sessions.RemoveAll(s => s.SandboxId == sandbox.Id && string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
                    Sessions.Add(session);
                }
                shell.Ended += () =>
                {
                    if (session.State == SandboxSession.ClosedState) Forget(session);
                };
                if (shell.Completion.IsCompleted && session.State == SandboxSession.ClosedState) Forget(session);
                return session;
            }
            finally
            {
                lock (Gate) Opening.Remove(key);
            }
        }

        static SandboxException Exists(Sandbox sandbox, string name) =>
            new SandboxException("SandboxSessionExists", SandboxErrorKind.ResourceExists,
                $"Sandbox '{sandbox.Name}' already has an open session named '{name}'.", name,
                "Choose another -Name, use the open session (Get-SandboxSession), or remove it first with Remove-SandboxSession.");

        static string FreeName(string sandboxId)
        {
            for (var n = 1; ; n++)
            {
                var name = "Session" + n.ToString(CultureInfo.InvariantCulture);
                if (!Sessions.Any(s => s.SandboxId == sandboxId && string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))) return name;
            }
        }

        static string NewId()
        {
            while (true)
            {
                var id = Guid.NewGuid().ToString("N").Substring(0, 8);
                lock (Gate) if (!Sessions.Any(s => s.Id == id)) return id;
            }
        }

        /// <summary>Closes the session's shell and takes it off the list.</summary>
        public static void Remove(SandboxSession session)
        {
            session.Close("it was removed with Remove-SandboxSession");
            Forget(session);
        }

        static void Forget(SandboxSession session)
        {
            lock (Gate) Sessions.Remove(session);
        }

        /// <summary>The sandbox is being removed: its sessions close (and leave the list) with it.</summary>
        public static void CloseFor(string sandboxId)
        {
            foreach (var session in All.Where(s => s.SandboxId == sandboxId))
            {
                session.Close("its sandbox was removed, and the session closed with it");
                Forget(session);
            }
        }

        /// <summary>For module removal.</summary>
        public static void CloseAll()
        {
            foreach (var session in All) Remove(session);
        }
    }
}
