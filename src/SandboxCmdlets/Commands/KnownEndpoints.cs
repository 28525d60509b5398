using System;
using System.Collections.Concurrent;
using Sandbox.Endpoints;

namespace Sandbox.Commands
{
    /// <summary>Endpoints this process reached, by host string, so that a Sandbox object leads back to its engine with the same TLS settings.</summary>
    static class KnownEndpoints
    {
        static readonly ConcurrentDictionary<string, DockerEndpoint> ByHost = new ConcurrentDictionary<string, DockerEndpoint>(StringComparer.OrdinalIgnoreCase);

        public static void Remember(DockerEndpoint endpoint) => ByHost[endpoint.Host] = endpoint;

        public static DockerEndpoint Get(string host)
        {
            if (ByHost.TryGetValue(host, out var endpoint)) return endpoint;
            endpoint = EndpointResolver.Default.Resolve(host);
            ByHost[host] = endpoint;
            return endpoint;
        }
    }
}
