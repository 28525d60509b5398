using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Net;

namespace Sandbox.Lifecycle
{
    /// <summary>One published port: container port/protocol, and where on the host (port 0 = a free one).</summary>
    public sealed class PortSpec
    {
        public const string DefaultHostIp = "127.0.0.1";

        public int ContainerPort { get; set; }
        public string Protocol { get; set; } = "tcp";
        public string HostIp { get; set; } = DefaultHostIp;
        public int HostPort { get; set; }

        public string Key => $"{ContainerPort}/{Protocol}";

        /// <summary>
        /// Reads the seed's form @{'8080/tcp' = 22000} (value: a port, 'ip:port', or $null for a free port), strings in the
        /// seed's order '8080', '8080/udp', '8080:22000' (container, then host), and Docker's '127.0.0.1:22000:8080' (address first).
        /// </summary>
        public static List<PortSpec> ParseAll(IEnumerable<object?> items)
        {
            var result = new List<PortSpec>();
            foreach (var item in items)
            {
                if (item is IDictionary table)
                {
                    foreach (DictionaryEntry entry in table)
                        result.Add(FromPair(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "", entry.Value));
                }
                else if (item is int number)
                {
                    result.Add(FromPair(number.ToString(CultureInfo.InvariantCulture), null));
                }
                else
                {
                    result.Add(Parse(Convert.ToString(item, CultureInfo.InvariantCulture) ?? ""));
                }
            }
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var port in result)
            {
                if (port.HostPort > 0 && !seen.Add($"{port.HostIp}:{port.HostPort}/{port.Protocol}"))
                    throw Invalid(port.ToString(), $"Host port {port.HostPort}/{port.Protocol} is asked for twice.");
            }
            return result;
        }

        public static PortSpec Parse(string text)
        {
            var trimmed = text.Trim();
            if (trimmed.Length == 0) throw Invalid(text, "A port cannot be empty. Use '8080', '8080/udp', '8080:22000' (container:host) or '127.0.0.1:22000:8080' (address:host:container).");

            // Docker's own form with an address first: ip:hostPort:containerPort, [ipv6]:hostPort:containerPort.
            string? address = null;
            var rest = trimmed;
            if (trimmed.StartsWith("[", StringComparison.Ordinal))
            {
                var close = trimmed.IndexOf(']');
                if (close < 0 || close + 1 >= trimmed.Length || trimmed[close + 1] != ':') throw Invalid(text, $"'{text}' is not a port mapping. Use '[::1]:22000:8080'.");
                address = trimmed.Substring(1, close - 1);
                rest = trimmed.Substring(close + 2);
            }
            var parts = rest.Split(':');
            if (address == null && parts.Length == 3)
            {
                address = parts[0];
                parts = new[] { parts[1], parts[2] };
            }
            if (address != null)
            {
                if (parts.Length != 2) throw Invalid(text, $"'{text}' is not a port mapping. Use 'address:hostPort:containerPort' such as '127.0.0.1:22000:8080'.");
                var spec = FromPair(parts[1], null);
                spec.HostIp = CheckIp(address, text);
                spec.HostPort = HostPortOf(parts[0], text);
                return spec;
            }
            if (parts.Length == 1) return FromPair(parts[0], null);
            if (parts.Length == 2) return FromPair(parts[0], parts[1]);
            throw Invalid(text, $"'{text}' is not a port mapping. Use '8080', '8080:22000' (container:host) or '127.0.0.1:22000:8080' (address:host:container).");
        }

        static PortSpec FromPair(string containerSide, object? hostSide)
        {
            var spec = new PortSpec();
            var parts = containerSide.Trim().Split('/');
            if (parts.Length > 2 || !TryPort(parts[0], out var containerPort, allowZero: false))
                throw Invalid(containerSide, $"'{containerSide}' is not a container port. Use a number from 1 to 65535, optionally with /tcp, /udp or /sctp.");
            spec.ContainerPort = containerPort;
            if (parts.Length == 2)
            {
                var protocol = parts[1].Trim().ToLowerInvariant();
                if (protocol != "tcp" && protocol != "udp" && protocol != "sctp")
                    throw Invalid(containerSide, $"'{parts[1]}' is not a protocol. Use tcp, udp or sctp.");
                spec.Protocol = protocol;
            }

            switch (hostSide)
            {
                case null:
                    break;
                case int port when port >= 0 && port <= 65535:
                    spec.HostPort = port;
                    break;
                case long port when port >= 0 && port <= 65535:
                    spec.HostPort = (int)port;
                    break;
                case IList pair when pair.Count == 2:
                    spec.HostIp = CheckIp(Convert.ToString(pair[0], CultureInfo.InvariantCulture) ?? "", containerSide);
                    spec.HostPort = HostPortOf(Convert.ToString(pair[1], CultureInfo.InvariantCulture) ?? "", containerSide);
                    break;
                default:
                    var text = (Convert.ToString(hostSide, CultureInfo.InvariantCulture) ?? "").Trim();
                    var lastColon = text.LastIndexOf(':');
                    if (lastColon >= 0)
                    {
                        spec.HostIp = CheckIp(text.Substring(0, lastColon).Trim('[', ']'), containerSide);
                        text = text.Substring(lastColon + 1);
                    }
                    spec.HostPort = HostPortOf(text, containerSide);
                    break;
            }
            return spec;
        }

        static int HostPortOf(string text, string context)
        {
            if (text.Trim().Length == 0) return 0;
            if (!TryPort(text, out var port, allowZero: true))
                throw Invalid(context, $"'{text}' is not a host port for {context}. Use a number from 1 to 65535, or 0 for a free port.");
            return port;
        }

        static string CheckIp(string text, string context)
        {
            // IPAddress.TryParse also takes "8080" (0.0.31.144) and "1.2" (1.0.0.2): require a dotted quad or an IPv6 address.
            if (!IPAddress.TryParse(text, out var ip) ||
                (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && text.Split('.').Length != 4))
                throw Invalid(context, $"'{text}' is not an IP address to publish {context} on. Use 127.0.0.1 (the default) or 0.0.0.0 for every address.");
            return text;
        }

        static bool TryPort(string text, out int port, bool allowZero) =>
            int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535 && (allowZero ? port >= 0 : port >= 1);

        static SandboxException Invalid(string target, string message) =>
            new SandboxException("InvalidPort", SandboxErrorKind.InvalidArgument, message, target);

        public override string ToString() => HostPort > 0 ? $"{Key} -> {HostIp}:{HostPort}" : $"{Key} -> {HostIp}:(free)";
    }
}
