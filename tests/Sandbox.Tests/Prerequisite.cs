namespace Sandbox.Tests;

/// <summary>Something outside this process that a test needs; see <see cref="Prerequisites"/>.</summary>
public enum Prerequisite
{
    /// <summary>The local dockerd answers and has the test image.</summary>
    DockerEngine,
    /// <summary>dockerd's TLS listener and the certificates of tests/setup/New-TestTls.sh.</summary>
    TlsEngine,
    SshKeygen,
    Tar,
    PosixShell,
    Busybox,
}
