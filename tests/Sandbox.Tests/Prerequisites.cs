using System.Collections.Concurrent;
using System.Net.Sockets;

namespace Sandbox.Tests;

/// <summary>
/// Why a test cannot run here, probed once a run, for the attributes that skip it with that reason. Under CI=true
/// nothing is skipped: build.sh installs and build.ps1 Test starts all of it there, so a test whose prerequisite is
/// missing runs and fails instead of passing without having run.
/// </summary>
public static class Prerequisites
{
    static readonly ConcurrentDictionary<Prerequisite, string?> Missing = new();

    /// <summary>Null when every one is here (or this is CI); else what is missing.</summary>
    public static string? SkipReason(IEnumerable<Prerequisite> needs)
    {
        if (Environment.GetEnvironmentVariable("CI") == "true") return null;
        var reasons = needs.Select(need => Missing.GetOrAdd(need, Probe)).OfType<string>().ToList();
        return reasons.Count == 0 ? null : string.Join("; ", reasons);
    }

    /// <summary>The full path of a program on PATH, or null.</summary>
    public static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Where(dir => dir.Length > 0)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    static string? Probe(Prerequisite need) => need switch
    {
        Prerequisite.DockerEngine => LocalEngine.SkipReason,
        Prerequisite.TlsEngine => TlsEngineMissing(),
        Prerequisite.SshKeygen => OnPath("ssh-keygen") == null ? "ssh-keygen is not installed" : null,
        Prerequisite.Tar => OnPath("tar") == null ? "no 'tar' command on this machine" : null,
        Prerequisite.PosixShell => File.Exists("/bin/sh") ? null : "no /bin/sh on this machine",
        Prerequisite.Busybox => File.Exists("/bin/busybox") ? null : "no /bin/busybox on this machine",
        _ => throw new ArgumentOutOfRangeException(nameof(need), need, null),
    };

    static string? TlsEngineMissing()
    {
        if (!File.Exists(Path.Combine(ContextTlsTests.TlsDir, "client", "key.pem"))) return $"no TLS test material in {ContextTlsTests.TlsDir} (tests/setup/New-TestTls.sh)";
        var uri = new Uri(ContextTlsTests.TlsHost);
        using var client = new TcpClient();
        try
        {
            if (client.ConnectAsync(uri.Host, uri.Port).Wait(1000)) return null;
        }
        catch (AggregateException) { }
        return $"nothing listens on {ContextTlsTests.TlsHost} (build.sh starts dockerd with it)";
    }
}
