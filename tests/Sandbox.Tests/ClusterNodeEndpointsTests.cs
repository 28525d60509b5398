using Docker.DotNet.Models;
using Sandbox.Cluster;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class ClusterNodeEndpointsTests
{
    const string Certs = "/var/lib/sandbox-test/tls/client";

    /// <summary>Maps are remembered per manager host for the whole process: every test has its own manager.</summary>
    static DockerEndpoint TlsManager(int lastOctet) => DockerEndpoint.Parse($"tcp://10.99.0.{lastOctet}:2376", "-Cluster", Certs, true).AsCluster();

    static NodeListResponse Node(string name, string id, string address, string? managerAddress = null) => new NodeListResponse
    {
        ID = id,
        Description = new NodeDescription { Hostname = name },
        Status = new NodeStatus { State = "ready", Addr = address },
        ManagerStatus = managerAddress == null ? null : new ManagerStatus { Addr = managerAddress },
    };

    [Fact]
    public void Parse_reads_node_equals_endpoint_pairs_split_by_commas_or_semicolons()
    {
        var map = NodeEndpoints.Parse("node2=tcp://1.2.3.4:2376;node3=5.6.7.8, node4 = 9.9.9.9:2000", "SANDBOX_CLUSTER_NODES");
        Assert.Equal(3, map.Count);
        Assert.Equal("tcp://1.2.3.4:2376", map["node2"]);
        Assert.Equal("5.6.7.8", map["NODE3"]);     // node names are matched without regard to case
        Assert.Equal("9.9.9.9:2000", map["node4"]);
        Assert.Empty(NodeEndpoints.Parse(null, "SANDBOX_CLUSTER_NODES"));
        Assert.Empty(NodeEndpoints.Parse(" ; ,", "SANDBOX_CLUSTER_NODES"));
    }

    [Theory]
    [InlineData("node2")]
    [InlineData("=tcp://1.2.3.4:2376")]
    [InlineData("node2=")]
    [InlineData("node2=tcp://1.2.3.4:2376,node3")]
    public void Parse_refuses_what_is_not_node_equals_endpoint(string text)
    {
        var e = Assert.Throws<SandboxException>(() => NodeEndpoints.Parse(text, "SANDBOX_CLUSTER_NODES"));
        Assert.Equal("InvalidNodeEndpoint", e.ErrorId);
        Assert.Equal(SandboxErrorKind.InvalidArgument, e.Kind);
        Assert.Contains("SANDBOX_CLUSTER_NODES", e.Message);
    }

    [Fact]
    public void Remember_refuses_an_empty_node_or_target()
    {
        var manager = TlsManager(1);
        var e = Assert.Throws<SandboxException>(() => NodeEndpoints.Remember(manager, new Dictionary<string, string> { ["node2"] = " " }));
        Assert.Equal("InvalidNodeEndpoint", e.ErrorId);
    }

    [Fact]
    public void By_default_a_node_is_its_address_with_the_managers_scheme_port_and_tls_files()
    {
        var node = NodeEndpoints.For(TlsManager(2), Node("sandbox-node2", "id2", "10.213.0.12"));
        Assert.Equal(EndpointKind.Tcp, node.Kind);
        Assert.Equal("tcp://10.213.0.12:2376", node.Host);
        Assert.Equal(Certs, node.TlsCertPath);
        Assert.True(node.TlsVerify);
        Assert.False(node.IsCluster);     // the node's engine is one engine: exec and copy go through the single-engine code
    }

    [Fact]
    public void A_manager_reporting_0_0_0_0_is_reached_at_the_host_of_its_manager_address()
    {
        var node = NodeEndpoints.For(TlsManager(3), Node("sandbox-node1", "id1", "0.0.0.0", "10.213.0.11:2377"));
        Assert.Equal("tcp://10.213.0.11:2376", node.Host);
        Assert.Equal(Certs, node.TlsCertPath);
    }

    [Fact]
    public void A_node_with_no_address_at_all_is_an_error_that_says_how_to_map_it()
    {
        var e = Assert.Throws<SandboxException>(() => NodeEndpoints.For(TlsManager(4), Node("lonely", "id9", "")));
        Assert.Equal("NodeEngineUnknown", e.ErrorId);
        Assert.Contains("-NodeEndpoint", e.RecommendedAction);
    }

    [Theory]
    [InlineData("sandbox-node2")]
    [InlineData("SANDBOX-NODE2")]
    [InlineData("id2")]
    [InlineData("10.213.0.12")]
    public void A_map_entry_is_found_by_node_name_id_or_address(string key)
    {
        var manager = TlsManager(10 + Math.Abs(key.GetHashCode() % 50));
        NodeEndpoints.Remember(manager, new Dictionary<string, string> { [key] = "tcp://203.0.113.5:12376" });
        var node = NodeEndpoints.For(manager, Node("sandbox-node2", "id2", "10.213.0.12"));
        Assert.Equal("tcp://203.0.113.5:12376", node.Host);
        Assert.Equal(Certs, node.TlsCertPath);      // a full endpoint in the map still uses the manager's certificates
        var other = NodeEndpoints.For(manager, Node("sandbox-node3", "id3", "10.213.0.13"));
        Assert.Equal("tcp://10.213.0.13:2376", other.Host);
    }

    [Fact]
    public void A_host_only_entry_keeps_the_managers_scheme_port_and_tls_folder()
    {
        var manager = TlsManager(70);
        NodeEndpoints.Remember(manager, new Dictionary<string, string> { ["sandbox-node3"] = "203.0.113.6" });
        var node = NodeEndpoints.For(manager, Node("sandbox-node3", "id3", "10.213.0.13"));
        Assert.Equal("tcp://203.0.113.6:2376", node.Host);
        Assert.Equal(Certs, node.TlsCertPath);
        Assert.True(node.TlsVerify);
    }

    [Fact]
    public void A_host_and_port_entry_keeps_the_managers_scheme_and_tls_folder()
    {
        var manager = TlsManager(71);
        NodeEndpoints.Remember(manager, new Dictionary<string, string> { ["sandbox-node3"] = "203.0.113.6:30376" });
        var node = NodeEndpoints.For(manager, Node("sandbox-node3", "id3", "10.213.0.13"));
        Assert.Equal("tcp://203.0.113.6:30376", node.Host);
        Assert.Equal(Certs, node.TlsCertPath);
    }

    [Fact]
    public void A_plain_manager_gives_plain_node_endpoints()
    {
        var manager = DockerEndpoint.Parse("http://10.99.1.1:2375", "-Cluster").AsCluster();
        NodeEndpoints.Remember(manager, new Dictionary<string, string> { ["sandbox-node3"] = "203.0.113.6:30375" });
        var mapped = NodeEndpoints.For(manager, Node("sandbox-node3", "id3", "10.213.0.13"));
        Assert.Equal("tcp://203.0.113.6:30375", mapped.Host);
        Assert.Null(mapped.TlsCertPath);
        var derived = NodeEndpoints.For(manager, Node("sandbox-node2", "id2", "10.213.0.12"));
        Assert.Equal("tcp://10.213.0.12:2375", derived.Host);
        Assert.Null(derived.TlsCertPath);
    }

    [Fact]
    public void Ssh_entries_keep_the_managers_login_and_key()
    {
        var manager = DockerEndpoint.Parse("ssh://alice@10.99.2.1:2222", "-Cluster").WithSshCredentials(null, null, "/keys/id_ed25519").AsCluster();
        NodeEndpoints.Remember(manager, new Dictionary<string, string> { ["n-host"] = "203.0.113.7", ["n-port"] = "203.0.113.8:2200" });

        var hostOnly = NodeEndpoints.For(manager, Node("n-host", "idh", "10.213.0.12"));
        Assert.Equal(EndpointKind.Ssh, hostOnly.Kind);
        Assert.Equal("203.0.113.7", hostOnly.Uri.Host);
        Assert.Equal(2222, hostOnly.Uri.Port);
        Assert.Equal("alice", hostOnly.Uri.UserInfo);
        Assert.Equal("/keys/id_ed25519", hostOnly.SshIdentityFile);

        var hostAndPort = NodeEndpoints.For(manager, Node("n-port", "idp", "10.213.0.13"));
        Assert.Equal(EndpointKind.Ssh, hostAndPort.Kind);
        Assert.Equal("203.0.113.8", hostAndPort.Uri.Host);
        Assert.Equal(2200, hostAndPort.Uri.Port);
        Assert.Equal("alice", hostAndPort.Uri.UserInfo);
        Assert.Equal("/keys/id_ed25519", hostAndPort.SshIdentityFile);

        var derived = NodeEndpoints.For(manager, Node("n-default", "idd", "10.213.0.14"));
        Assert.Equal("10.213.0.14", derived.Uri.Host);
        Assert.Equal(2222, derived.Uri.Port);
        Assert.Equal("alice", derived.Uri.UserInfo);
        Assert.Equal("/keys/id_ed25519", derived.SshIdentityFile);
    }
}
