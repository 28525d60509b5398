using System;
using System.Net.Http;
using System.Threading.Tasks;
using Docker.DotNet.Handler.Abstractions;
using Microsoft.Extensions.Logging;

namespace Sandbox.Endpoints.Ssh
{
    public sealed class SshTransportOptions
    {
        public SshSession Session { get; set; } = null!;
    }
}
