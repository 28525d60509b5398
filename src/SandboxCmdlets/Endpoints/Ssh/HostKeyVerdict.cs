namespace Sandbox.Endpoints.Ssh
{
    public enum HostKeyVerdict { Trusted, Unknown, Changed, Revoked }
}
