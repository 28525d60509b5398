using Sandbox.Endpoints;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

/// <summary>Docker contexts whose TLS folder (contexts/tls/&lt;sha256 of the name&gt;/docker) exists: what the resolver makes of
/// it, and a real TLS connection through it to the test engine's TLS listener when the test set-up is there.</summary>
public sealed class ContextTlsTests : IDisposable
{
    readonly string _temp = Directory.CreateTempSubdirectory("sandbox-ctx-tls-").FullName;
    readonly Dictionary<string, string?> _env = new(StringComparer.Ordinal);

    public ContextTlsTests()
    {
        _env["HOME"] = Path.Combine(_temp, "home");
        _env["DOCKER_CONFIG"] = Path.Combine(_temp, "config");
        Directory.CreateDirectory(_env["HOME"]!);
        Directory.CreateDirectory(_env["DOCKER_CONFIG"]!);
    }

    public void Dispose()
    {
        try { Directory.Delete(_temp, recursive: true); } catch (IOException) { }
    }

    EndpointResolver Resolver => new(name => _env.TryGetValue(name, out var v) ? v : null);

    string Config => _env["DOCKER_CONFIG"]!;

    /// <summary>Writes a context as the docker CLI does; returns its TLS folder, created with the given files.</summary>
    string AddContext(string name, string host, string[] tlsFiles, bool skipVerify = false, string? copyFrom = null)
    {
        var id = EndpointResolver.ContextFolderName(name);
        var meta = Path.Combine(Config, "contexts", "meta", id);
        Directory.CreateDirectory(meta);
        File.WriteAllText(Path.Combine(meta, "meta.json"), System.Text.Json.JsonSerializer.Serialize(new
        {
            Name = name,
            Metadata = new { },
            Endpoints = new { docker = new { Host = host, SkipTLSVerify = skipVerify } },
        }));
        var tls = Path.Combine(Config, "contexts", "tls", id, "docker");
        Directory.CreateDirectory(tls);
        foreach (var f in tlsFiles)
        {
            if (copyFrom != null) File.Copy(Path.Combine(copyFrom, f), Path.Combine(tls, f));
            else File.WriteAllText(Path.Combine(tls, f), "");
        }
        return tls;
    }

    [Fact]
    public void Tls_folder_of_the_context_is_used_with_verification()
    {
        var tls = AddContext("secure", "tcp://10.1.1.2:2376", new[] { "ca.pem", "cert.pem", "key.pem" });
        File.WriteAllText(Path.Combine(Config, "config.json"), """{"currentContext":"secure"}""");
        var e = Resolver.Resolve(null);
        Assert.Equal(EndpointKind.Tcp, e.Kind);
        Assert.Equal("tcp://10.1.1.2:2376", e.Host);
        Assert.Equal(tls, e.TlsCertPath);
        Assert.Equal(Path.Combine(Config, "contexts", "tls", EndpointResolver.ContextFolderName("secure"), "docker"), e.TlsCertPath);
        Assert.True(e.UsesTls);
        Assert.True(e.TlsVerify);
        Assert.Equal("context 'secure'", e.Source);
    }

    [Fact]
    public void Tls_context_without_a_port_gets_2376()
    {
        AddContext("noport", "tcp://10.1.1.2", new[] { "ca.pem", "cert.pem", "key.pem" });
        _env["DOCKER_CONTEXT"] = "noport";
        Assert.Equal("tcp://10.1.1.2:2376", Resolver.Resolve(null).Host);
    }

    [Fact]
    public void Client_certificate_alone_is_tls()
    {
        var tls = AddContext("certonly", "tcp://10.1.1.3:2376", new[] { "cert.pem", "key.pem" });
        _env["DOCKER_CONTEXT"] = "certonly";
        var e = Resolver.Resolve(null);
        Assert.Equal(tls, e.TlsCertPath);
        Assert.True(e.UsesTls);
    }

    [Fact]
    public void The_context_TLS_folder_wins_over_DOCKER_CERT_PATH_and_DOCKER_TLS_VERIFY()
    {
        var tls = AddContext("secure", "tcp://10.1.1.2:2376", new[] { "ca.pem", "cert.pem", "key.pem" });
        _env["DOCKER_CONTEXT"] = "secure";
        _env["DOCKER_CERT_PATH"] = "/elsewhere";
        _env["DOCKER_TLS_VERIFY"] = "0";
        var e = Resolver.Resolve(null);
        Assert.Equal(tls, e.TlsCertPath);
        Assert.True(e.TlsVerify);
    }

    [Fact]
    public void Empty_tls_folder_means_plain_and_is_refused_for_a_remote_host()
    {
        AddContext("empty-tls", "tcp://10.1.1.4:2375", Array.Empty<string>());
        _env["DOCKER_CONTEXT"] = "empty-tls";
        var ex = Assert.Throws<SandboxException>(() => Resolver.Resolve(null));
        Assert.Equal("InsecureDockerHost", ex.ErrorId);
        Assert.Equal(SandboxErrorKind.SecurityError, ex.Kind);
    }

    [Fact]
    public void Empty_tls_folder_on_a_loopback_host_is_plain()
    {
        AddContext("local-plain", "tcp://127.0.0.1:2375", Array.Empty<string>());
        _env["DOCKER_CONTEXT"] = "local-plain";
        var e = Resolver.Resolve(null);
        Assert.False(e.UsesTls);
        Assert.Null(e.TlsCertPath);
    }

    [Fact]
    public void Skip_verify_context_uses_its_certificates_without_verifying()
    {
        var tls = AddContext("lax", "tcp://10.1.1.5:2376", new[] { "ca.pem", "cert.pem", "key.pem" }, skipVerify: true);
        _env["DOCKER_CONTEXT"] = "lax";
        var e = Resolver.Resolve(null);
        Assert.Equal(tls, e.TlsCertPath);
        Assert.False(e.TlsVerify);
    }

    [Fact]
    public void Ssh_context_ignores_a_tls_folder()
    {
        AddContext("sshbox", "ssh://me@box:2222", new[] { "ca.pem", "cert.pem", "key.pem" });
        _env["DOCKER_CONTEXT"] = "sshbox";
        var e = Resolver.Resolve(null);
        Assert.Equal(EndpointKind.Ssh, e.Kind);
        Assert.False(e.UsesTls);
        Assert.Null(e.TlsCertPath);
    }

    [Fact]
    public void Tls_folder_of_another_context_is_not_used()
    {
        AddContext("a", "tcp://10.1.1.6:2376", new[] { "ca.pem", "cert.pem", "key.pem" });
        AddContext("b", "tcp://127.0.0.1:2375", Array.Empty<string>());
        _env["DOCKER_CONTEXT"] = "b";
        Assert.False(Resolver.Resolve(null).UsesTls);
    }

    // --- a real connection through a context's TLS folder to the test engine (tests/setup/New-TestTls.sh) ----------

    internal static string TlsDir => Environment.GetEnvironmentVariable("SANDBOX_TEST_TLS_DIR") is { Length: > 0 } d ? d : "/var/lib/sandbox-test/tls";

    internal static string TlsHost => Environment.GetEnvironmentVariable("SANDBOX_TEST_TLS_HOST") is { Length: > 0 } h ? h : "tcp://127.0.0.1:2376";

    [FactNeeding(Prerequisite.TlsEngine)]
    public async Task Connects_to_the_TLS_engine_with_the_context_certificates()
    {
        AddContext("tlsctx", TlsHost, new[] { "ca.pem", "cert.pem", "key.pem" }, copyFrom: Path.Combine(TlsDir, "client"));
        File.WriteAllText(Path.Combine(Config, "config.json"), """{"currentContext":"tlsctx"}""");
        var endpoint = Resolver.Resolve(null);
        var engine = await DockerEngine.ConnectAsync(endpoint, CancellationToken.None);
        try
        {
            var version = await engine.Client.System.GetVersionAsync();
            Assert.False(string.IsNullOrEmpty(version.APIVersion));
            Assert.Equal(new Uri(TlsHost).Host + ":" + new Uri(TlsHost).Port, endpoint.Host.Substring("tcp://".Length));
        }
        finally
        {
            engine.Forget();
            engine.Dispose();
        }
    }

    [FactNeeding(Prerequisite.TlsEngine)]
    public async Task A_context_with_the_wrong_CA_is_refused()
    {
        AddContext("wrongca", TlsHost, new[] { "ca.pem", "cert.pem", "key.pem" }, copyFrom: Path.Combine(TlsDir, "wrong-ca"));
        _env["DOCKER_CONTEXT"] = "wrongca";
        var endpoint = Resolver.Resolve(null);
        var e = await Assert.ThrowsAsync<SandboxException>(() => DockerEngine.ConnectAsync(endpoint, CancellationToken.None));
        Assert.Equal("TlsHandshakeFailed", e.ErrorId);
        Assert.Equal(SandboxErrorKind.SecurityError, e.Kind);
        Assert.Contains("does not chain", e.Message);
    }
}
