using System;
using System.IO;
using Sandbox.Lifecycle;

namespace Sandbox.Endpoints
{
    public enum EndpointKind { Unix, NamedPipe, Tcp, Ssh }
}
