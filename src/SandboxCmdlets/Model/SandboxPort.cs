namespace Sandbox
{
    public sealed class SandboxPort
    {
        public int ContainerPort { get; internal set; }
        public string Protocol { get; internal set; } = "tcp";
        /// <summary>The address the port is published on, on the engine's host.</summary>
        public string HostIp { get; internal set; } = "127.0.0.1";
        public int HostPort { get; internal set; }
        /// <summary>On ssh:// engines, the port on this machine that is tunnelled to HostPort on the remote host.</summary>
        public int? LocalPort { get; internal set; }
        /// <summary>The engine's host name when it is another machine; null for a local engine.</summary>
        internal string? EngineHost { get; set; }

        /// <summary>Where a browser on this machine reaches the port; null when it cannot (a remote engine's loopback, untunnelled).</summary>
        public string? Url
        {
            get
            {
                if (Protocol != "tcp" || HostPort <= 0) return null;
                if (LocalPort is int local) return $"http://localhost:{local}";
                var wildcard = HostIp == "0.0.0.0" || HostIp == "::" || HostIp == "";
                if (EngineHost == null) return $"http://{(wildcard ? "localhost" : Bracket(HostIp))}:{HostPort}";
                if (wildcard) return $"http://{Bracket(EngineHost)}:{HostPort}";
                return System.Net.IPAddress.TryParse(HostIp, out var ip) && System.Net.IPAddress.IsLoopback(ip) ? null : $"http://{Bracket(HostIp)}:{HostPort}";
            }
        }

        static string Bracket(string host) => host.Contains(":") ? $"[{host}]" : host;

        public override string ToString()
        {
            var published = HostPort > 0 ? $"{HostIp}:{HostPort}->{ContainerPort}/{Protocol}" : $"{ContainerPort}/{Protocol}";
            return LocalPort is int local ? $"localhost:{local}=>{published}" : published;
        }
    }
}
