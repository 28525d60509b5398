using Sandbox.Endpoints;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class ClusterDockerEndpointTests
{
    [Fact]
    public void WithHost_on_tcp_with_tls_keeps_the_port_and_certificates()
    {
        var manager = DockerEndpoint.Parse("tcp://10.213.0.11:12376", "-Cluster", "/certs", true);
        var node = manager.WithHost("10.213.0.12", "node sandbox-node2");
        Assert.Equal("tcp://10.213.0.12:12376", node.Host);
        Assert.Equal(EndpointKind.Tcp, node.Kind);
        Assert.Equal("/certs", node.TlsCertPath);
        Assert.True(node.TlsVerify);
        Assert.Equal("node sandbox-node2", node.Source);
    }

    [Fact]
    public void WithHost_on_plain_http_stays_plain()
    {
        var manager = DockerEndpoint.Parse("http://10.213.0.11:2375", "-Cluster");
        var node = manager.WithHost("10.213.0.12", "node");
        Assert.Equal("tcp://10.213.0.12:2375", node.Host);
        Assert.False(node.UsesTls);
    }

    [Fact]
    public void WithHost_keeps_the_api_version()
    {
        var manager = DockerEndpoint.Parse("tcp://10.213.0.11:2376", "-Cluster", "/certs", true, new Version(1, 41));
        Assert.Equal(new Version(1, 41), manager.WithHost("10.213.0.12", "node").ApiVersion);
    }

    [Fact]
    public void WithHost_on_ssh_keeps_user_port_and_credentials()
    {
        var manager = DockerEndpoint.Parse("ssh://bob@10.213.0.11:2222", "-Cluster").WithSshCredentials("carol", "secret", "/keys/id");
        var node = manager.WithHost("10.213.0.13", "node");
        Assert.Equal(EndpointKind.Ssh, node.Kind);
        Assert.Equal("10.213.0.13", node.Uri.Host);
        Assert.Equal(2222, node.Uri.Port);
        Assert.Equal("bob", node.Uri.UserInfo);
        Assert.Equal("carol", node.SshUser);
        Assert.Equal("secret", node.SshPassword);
        Assert.Equal("/keys/id", node.SshIdentityFile);
        // Same login, another host: another connection, the same kind of key.
        Assert.NotEqual(manager.CacheKey, node.CacheKey);
        Assert.Equal(manager.CacheKey.Substring(manager.CacheKey.IndexOf('|')), node.CacheKey.Substring(node.CacheKey.IndexOf('|')));
    }

    [Fact]
    public void WithHost_on_a_unix_socket_refuses_with_NodeEngineUnknown()
    {
        var manager = DockerEndpoint.Parse("unix:///var/run/docker.sock", "-Cluster");
        var e = Assert.Throws<SandboxException>(() => manager.WithHost("10.213.0.12", "node"));
        Assert.Equal("NodeEngineUnknown", e.ErrorId);
        Assert.Contains("-NodeEndpoint", e.RecommendedAction);
    }

    [Fact]
    public void WithHost_brackets_an_ipv6_address()
    {
        var manager = DockerEndpoint.Parse("tcp://10.213.0.11:2376", "-Cluster", "/certs", true);
        Assert.Equal("tcp://[fd00::12]:2376", manager.WithHost("fd00::12", "node").Host);
    }

    [Fact]
    public void AsCluster_marks_the_endpoint_without_changing_its_cache_key()
    {
        var engine = DockerEndpoint.Parse("tcp://10.213.0.11:2376", "-Cluster", "/certs", true);
        var cluster = engine.AsCluster();
        Assert.False(engine.IsCluster);
        Assert.True(cluster.IsCluster);
        Assert.Same(cluster, cluster.AsCluster());
        Assert.Equal(engine.CacheKey, cluster.CacheKey);     // one connection to the manager serves both
        Assert.Equal(engine.Host, cluster.Host);
        Assert.Equal(engine.TlsCertPath, cluster.TlsCertPath);
    }
}
