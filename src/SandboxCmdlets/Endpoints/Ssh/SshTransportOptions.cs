namespace Sandbox.Endpoints.Ssh
{
    public sealed class SshTransportOptions
    {
        public SshSession Session { get; set; } = null!;
    }
}
