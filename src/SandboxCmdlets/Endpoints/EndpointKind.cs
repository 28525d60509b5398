namespace Sandbox.Endpoints
{
    public enum EndpointKind { Unix, NamedPipe, Tcp, Ssh }
}
