using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using Renci.SshNet;

namespace Sandbox.Endpoints.Ssh
{
    /// <summary>
    /// Ports a sandbox publishes on a remote ssh:// engine are bound to the remote host's loopback; each is forwarded to a
    /// local port over the endpoint's SSH connection, so that http://localhost:PORT works on the client. Closed with the sandbox.
    /// </summary>
    public static class PortTunnels
    {
        sealed class Tunnel
        {
            public SshSession Session = null!;
            public ForwardedPortLocal Forward = null!;
            public int RemotePort;
        }

        static readonly ConcurrentDictionary<string, List<Tunnel>> BySandbox = new ConcurrentDictionary<string, List<Tunnel>>();

        public static void Open(SshSession session, Sandbox sandbox)
        {
            var tunnels = new List<Tunnel>();
            // The tunnel reaches the remote host's 127.0.0.1, so only ports published there (or on every address) can use one.
            foreach (var port in sandbox.Ports.Where(p => p.Protocol == "tcp" && p.HostPort > 0 && (p.HostIp == "127.0.0.1" || p.HostIp == "0.0.0.0")))
            {
                if (tunnels.Any(t => t.RemotePort == port.HostPort)) continue;
                tunnels.Add(new Tunnel { Session = session, Forward = session.Forward(port.HostPort), RemotePort = port.HostPort });
            }
            if (tunnels.Count == 0) return;
            BySandbox[sandbox.Id] = tunnels;
            Apply(sandbox);
        }

        /// <summary>Fills in the local end of each tunnelled port.</summary>
        public static void Apply(Sandbox sandbox)
        {
            if (!BySandbox.TryGetValue(sandbox.Id, out var tunnels)) return;
            foreach (var port in sandbox.Ports)
            {
                var tunnel = tunnels.FirstOrDefault(t => t.RemotePort == port.HostPort && port.Protocol == "tcp");
                if (tunnel != null) port.LocalPort = (int)tunnel.Forward.BoundPort;
            }
        }

        public static void Close(string sandboxId)
        {
            if (!BySandbox.TryRemove(sandboxId, out var tunnels)) return;
            foreach (var tunnel in tunnels) tunnel.Session.CloseForward(tunnel.Forward);
        }

        /// <summary>For module removal: every tunnel this process opened.</summary>
        public static void CloseAll()
        {
            foreach (var id in BySandbox.Keys.ToList()) Close(id);
        }

        public static int Count => BySandbox.Values.Sum(t => t.Count);
    }
}
