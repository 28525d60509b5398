using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class SshCredentialsTests
{
    [Fact]
    public void Ssh_endpoint_gets_a_copy_with_the_credentials()
    {
        var plain = DockerEndpoint.Parse("ssh://root@h:2222");
        var with = plain.WithSshCredentials("alice", "pw", "/keys/id_ed25519");
        Assert.NotSame(plain, with);
        Assert.Equal("alice", with.SshUser);
        Assert.Equal("pw", with.SshPassword);
        Assert.Equal("/keys/id_ed25519", with.SshIdentityFile);
        // The address stays the same; the original is untouched.
        Assert.Equal(plain.Host, with.Host);
        Assert.Equal(plain.Uri, with.Uri);
        Assert.Equal(EndpointKind.Ssh, with.Kind);
        Assert.Equal(plain.Source, with.Source);
        Assert.Null(plain.SshUser);
        Assert.Null(plain.SshPassword);
        Assert.Null(plain.SshIdentityFile);
    }

    [Fact]
    public void Nothing_given_returns_the_same_endpoint()
    {
        var plain = DockerEndpoint.Parse("ssh://root@h:2222");
        Assert.Same(plain, plain.WithSshCredentials(null, null, null));
    }

    [Theory]
    [InlineData("unix:///var/run/docker.sock")]
    [InlineData("tcp://127.0.0.1:2375")]
    public void Other_endpoints_ignore_ssh_credentials(string host)
    {
        var e = DockerEndpoint.Parse(host);
        var with = e.WithSshCredentials("alice", "pw", "/keys/id_rsa");
        Assert.Same(e, with);
        Assert.Null(with.SshUser);
        Assert.Equal(e.CacheKey, with.CacheKey);
    }

    [Fact]
    public void Later_credentials_add_to_earlier_ones()
    {
        var e = DockerEndpoint.Parse("ssh://h").WithSshCredentials("alice", null, null).WithSshCredentials(null, "pw", null);
        Assert.Equal("alice", e.SshUser);
        Assert.Equal("pw", e.SshPassword);
        Assert.Null(e.SshIdentityFile);
        var replaced = e.WithSshCredentials("bob", null, "/k");
        Assert.Equal("bob", replaced.SshUser);
        Assert.Equal("pw", replaced.SshPassword);
        Assert.Equal("/k", replaced.SshIdentityFile);
    }

    [Fact]
    public void Cache_key_is_stable_for_the_same_settings()
    {
        Assert.Equal(DockerEndpoint.Parse("ssh://root@h:2222").CacheKey, DockerEndpoint.Parse("ssh://root@h:2222").CacheKey);
        Assert.Equal(
            DockerEndpoint.Parse("ssh://h").WithSshCredentials("u", null, "/k").CacheKey,
            DockerEndpoint.Parse("ssh://h").WithSshCredentials("u", null, "/k").CacheKey);
    }

    [Fact]
    public void Cache_key_differs_by_user_key_file_and_password_login()
    {
        var plain = DockerEndpoint.Parse("ssh://root@h:2222");
        var keys = new[]
        {
            plain.CacheKey,
            plain.WithSshCredentials("alice", null, null).CacheKey,
            plain.WithSshCredentials("bob", null, null).CacheKey,
            plain.WithSshCredentials(null, null, "/keys/a").CacheKey,
            plain.WithSshCredentials(null, null, "/keys/b").CacheKey,
            plain.WithSshCredentials(null, "pw", null).CacheKey,
            DockerEndpoint.Parse("ssh://root@h:2223").CacheKey,
            DockerEndpoint.Parse("ssh://other@h:2222").CacheKey,
        };
        Assert.Equal(keys.Length, keys.Distinct().Count());
    }

    [Fact]
    public void Cache_key_never_holds_the_password()
    {
        var e = DockerEndpoint.Parse("ssh://h").WithSshCredentials("alice", "s3cr3t-Pa55", null);
        Assert.DoesNotContain("s3cr3t-Pa55", e.CacheKey);
        Assert.DoesNotContain("s3cr3t-Pa55", e.ToString());
    }

    [Fact]
    public void Cache_key_differs_by_tls_settings_and_api_version()
    {
        var keys = new[]
        {
            DockerEndpoint.Parse("tcp://127.0.0.1:2376").CacheKey,
            DockerEndpoint.Parse("tcp://127.0.0.1:2376", tlsCertPath: "/a").CacheKey,
            DockerEndpoint.Parse("tcp://127.0.0.1:2376", tlsCertPath: "/b").CacheKey,
            DockerEndpoint.Parse("tcp://127.0.0.1:2376", tlsCertPath: "/a", tlsVerify: true).CacheKey,
            DockerEndpoint.Parse("tcp://127.0.0.1:2376", apiVersion: new System.Version(1, 41)).CacheKey,
        };
        Assert.Equal(keys.Length, keys.Distinct().Count());
    }
}

public class SandboxPortUrlTests
{
    static SandboxPort Port(string hostIp, int hostPort = 22000, string? engineHost = null, int? localPort = null, string protocol = "tcp") =>
        new() { ContainerPort = 8080, Protocol = protocol, HostIp = hostIp, HostPort = hostPort, EngineHost = engineHost, LocalPort = localPort };

    [Theory]
    [InlineData("127.0.0.1", "http://127.0.0.1:22000")]
    [InlineData("0.0.0.0", "http://localhost:22000")]
    [InlineData("", "http://localhost:22000")]
    [InlineData("::", "http://localhost:22000")]
    [InlineData("::1", "http://[::1]:22000")]
    [InlineData("192.168.1.5", "http://192.168.1.5:22000")]
    public void Local_engine(string hostIp, string url) => Assert.Equal(url, Port(hostIp).Url);

    [Theory]
    [InlineData("0.0.0.0", "docker.example.com", "http://docker.example.com:22000")]
    [InlineData("::", "docker.example.com", "http://docker.example.com:22000")]
    [InlineData("", "10.1.2.3", "http://10.1.2.3:22000")]
    [InlineData("0.0.0.0", "fd00::5", "http://[fd00::5]:22000")]
    public void Remote_engine_with_a_wildcard_binding_is_reached_at_the_engine_host(string hostIp, string engineHost, string url) =>
        Assert.Equal(url, Port(hostIp, engineHost: engineHost).Url);

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("127.0.0.2")]
    public void Remote_engine_loopback_binding_without_a_tunnel_has_no_url(string hostIp) =>
        Assert.Null(Port(hostIp, engineHost: "docker.example.com").Url);

    [Fact]
    public void Remote_engine_binding_on_a_given_address()
    {
        Assert.Equal("http://10.0.0.7:22000", Port("10.0.0.7", engineHost: "docker.example.com").Url);
        Assert.Equal("http://[fd00::7]:22000", Port("fd00::7", engineHost: "docker.example.com").Url);
    }

    [Theory]
    [InlineData("127.0.0.1", "docker.example.com")]
    [InlineData("0.0.0.0", "docker.example.com")]
    [InlineData("127.0.0.1", null)]
    public void Tunnelled_port_is_reached_at_localhost_LocalPort(string hostIp, string? engineHost)
    {
        var p = Port(hostIp, engineHost: engineHost, localPort: 41234);
        Assert.Equal("http://localhost:41234", p.Url);
        Assert.Equal($"localhost:41234=>{hostIp}:22000->8080/tcp", p.ToString());
    }

    [Fact]
    public void Udp_and_unpublished_ports_have_no_url()
    {
        Assert.Null(Port("0.0.0.0", protocol: "udp").Url);
        Assert.Null(Port("0.0.0.0", protocol: "udp", localPort: 41234).Url);
        Assert.Null(Port("0.0.0.0", hostPort: 0).Url);
        Assert.Equal("8080/tcp", Port("0.0.0.0", hostPort: 0).ToString());
    }

    static Sandbox Mapped(string dockerHost, string hostIp) => SandboxMapper.FromInspect(new ContainerInspectResponse
    {
        ID = new string('c', 64),
        Name = "/mapped",
        Created = DateTime.UtcNow,
        Config = new ContainerConfig { Image = "busybox", Labels = new Dictionary<string, string> { [SandboxLabels.Managed] = "true" } },
        State = new State { Status = "running" },
        NetworkSettings = new NetworkSettings
        {
            Ports = new Dictionary<string, IList<PortBinding>>
            {
                ["8080/tcp"] = new List<PortBinding> { new() { HostIP = hostIp, HostPort = "22000" } },
            },
        },
    }, dockerHost);

    [Theory]
    [InlineData("unix:///var/run/docker.sock", "127.0.0.1", "http://127.0.0.1:22000")]
    [InlineData("tcp://docker.example.com:2376", "0.0.0.0", "http://docker.example.com:22000")]
    [InlineData("tcp://[fd00::5]:2376", "0.0.0.0", "http://[fd00::5]:22000")]
    [InlineData("ssh://root@10.1.2.3:2222", "0.0.0.0", "http://10.1.2.3:22000")]
    [InlineData("ssh://root@10.1.2.3:2222", "127.0.0.1", null)]
    [InlineData("tcp://docker.example.com:2376", "127.0.0.1", null)]
    public void The_engine_host_comes_from_the_sandbox_DockerHost(string dockerHost, string hostIp, string? url)
    {
        var s = Mapped(dockerHost, hostIp);
        Assert.Equal(dockerHost, s.DockerHost);
        Assert.Equal(url, Assert.Single(s.Ports).Url);
    }
}
