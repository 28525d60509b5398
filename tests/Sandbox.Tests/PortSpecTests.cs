using System.Collections;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class PortSpecTests
{
    static PortSpec One(object item) => Assert.Single(PortSpec.ParseAll(new[] { item }));

    static SandboxException Refused(params object?[] items)
    {
        var e = Assert.Throws<SandboxException>(() => PortSpec.ParseAll(items));
        Assert.Equal("InvalidPort", e.ErrorId);
        Assert.Equal(SandboxErrorKind.InvalidArgument, e.Kind);
        return e;
    }

    [Fact]
    public void Seed_hashtable_form()
    {
        var p = One(new Hashtable { ["8080/tcp"] = 22000 });
        Assert.Equal(8080, p.ContainerPort);
        Assert.Equal("tcp", p.Protocol);
        Assert.Equal("127.0.0.1", p.HostIp);
        Assert.Equal(22000, p.HostPort);
        Assert.Equal("8080/tcp", p.Key);
    }

    [Fact]
    public void Hashtable_with_several_ports()
    {
        var ports = PortSpec.ParseAll(new object[] { new Hashtable { ["8080/tcp"] = 22000, ["53/udp"] = 22001 } });
        Assert.Equal(2, ports.Count);
        Assert.Contains(ports, p => p.ContainerPort == 53 && p.Protocol == "udp" && p.HostPort == 22001);
    }

    [Fact]
    public void Hashtable_null_or_zero_value_picks_a_free_port()
    {
        Assert.Equal(0, One(new Hashtable { ["8080/tcp"] = null }).HostPort);
        Assert.Equal(0, One(new Hashtable { ["8080/tcp"] = 0 }).HostPort);
        Assert.Equal(0, One(new Hashtable { ["8080"] = 0L }).HostPort);
    }

    [Fact]
    public void Hashtable_value_with_an_address()
    {
        var p = One(new Hashtable { ["8080/tcp"] = "0.0.0.0:9000" });
        Assert.Equal("0.0.0.0", p.HostIp);
        Assert.Equal(9000, p.HostPort);
    }

    [Fact]
    public void Hashtable_value_as_ip_port_pair()
    {
        var p = One(new Hashtable { ["8080/tcp"] = new object[] { "0.0.0.0", 9000 } });
        Assert.Equal("0.0.0.0", p.HostIp);
        Assert.Equal(9000, p.HostPort);
    }

    [Fact]
    public void Hashtable_value_as_string_port()
    {
        Assert.Equal(22000, One(new Hashtable { ["8080/tcp"] = "22000" }).HostPort);
    }

    [Fact]
    public void Container_port_alone()
    {
        var p = PortSpec.Parse("8080");
        Assert.Equal(8080, p.ContainerPort);
        Assert.Equal("tcp", p.Protocol);
        Assert.Equal(0, p.HostPort);
        Assert.Equal(PortSpec.DefaultHostIp, p.HostIp);
        Assert.Equal("127.0.0.1", p.HostIp);
    }

    [Fact]
    public void Container_port_as_a_number()
    {
        var p = One(8080);
        Assert.Equal(8080, p.ContainerPort);
        Assert.Equal(0, p.HostPort);
        Assert.Equal(9090, One(9090L).ContainerPort);
    }

    [Fact]
    public void Udp_protocol()
    {
        var p = PortSpec.Parse("8080/udp");
        Assert.Equal("udp", p.Protocol);
        Assert.Equal("8080/udp", p.Key);
        Assert.Equal("sctp", PortSpec.Parse("9/SCTP").Protocol);
    }

    [Fact]
    public void Container_colon_host()
    {
        var p = PortSpec.Parse("8080:22000");
        Assert.Equal(8080, p.ContainerPort);
        Assert.Equal(22000, p.HostPort);
        Assert.Equal("127.0.0.1", p.HostIp);
    }

    // docs/SURFACE.md: "'127.0.0.1:8080:80' and '0.0.0.0:8080:80' (docker -p order when an address leads: address:host:container)".
    [Theory]
    [InlineData("127.0.0.1:8080:80", "127.0.0.1", 8080, 80)]
    [InlineData("0.0.0.0:8080:80", "0.0.0.0", 8080, 80)]
    [InlineData("0.0.0.0:0:80", "0.0.0.0", 0, 80)]
    [InlineData("127.0.0.2::80", "127.0.0.2", 0, 80)]
    public void Address_host_container_form(string text, string ip, int hostPort, int containerPort)
    {
        var p = PortSpec.Parse(text);
        Assert.Equal(containerPort, p.ContainerPort);
        Assert.Equal(ip, p.HostIp);
        Assert.Equal(hostPort, p.HostPort);
        Assert.Equal("tcp", p.Protocol);
    }

    [Fact]
    public void Address_form_with_protocol()
    {
        var p = PortSpec.Parse("127.0.0.2:5353:53/udp");
        Assert.Equal(53, p.ContainerPort);
        Assert.Equal("udp", p.Protocol);
        Assert.Equal("127.0.0.2", p.HostIp);
        Assert.Equal(5353, p.HostPort);
    }

    [Fact]
    public void Ipv6_address_in_brackets()
    {
        var p = PortSpec.Parse("[::1]:22000:8080");
        Assert.Equal("::1", p.HostIp);
        Assert.Equal(22000, p.HostPort);
        Assert.Equal(8080, p.ContainerPort);
    }

    [Fact]
    public void Seed_value_with_an_ipv6_address()
    {
        var p = One(new Hashtable { ["8080/tcp"] = "[::1]:22000" });
        Assert.Equal("::1", p.HostIp);
        Assert.Equal(22000, p.HostPort);
    }

    [Fact]
    public void Mixed_items()
    {
        var ports = PortSpec.ParseAll(new object?[] { "8080", 9090, new Hashtable { ["7000/tcp"] = 22000 }, "6000:22001" });
        Assert.Equal(new[] { 8080, 9090, 7000, 6000 }, ports.Select(p => p.ContainerPort));
        Assert.Equal(new[] { 0, 0, 22000, 22001 }, ports.Select(p => p.HostPort));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("abc")]
    [InlineData("70000")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("8080/xyz")]
    [InlineData("8080/tcp/udp")]
    [InlineData("8080:notanip:1")]
    [InlineData("notanip:1:8080")]
    [InlineData("127.0.0.1:8080")]       // an address needs a host and a container port
    [InlineData("127.0.0.1:8080:80:1")]
    [InlineData("[::1:22000:8080")]
    [InlineData("[::1]22000:8080")]
    // System.Net.IPAddress.TryParse reads "8080" as 0.0.31.144 and "1.2" as 1.0.0.2: neither is an address a user means.
    [InlineData("8080:22000:80")]
    [InlineData("1.2:22000:80")]
    [InlineData("8080:70000")]
    [InlineData("8080:abc")]
    public void Invalid_strings_are_InvalidPort(string text)
    {
        Refused(text);
        var e = Assert.Throws<SandboxException>(() => PortSpec.Parse(text));
        Assert.Equal("InvalidPort", e.ErrorId);
    }

    [Fact]
    public void Invalid_hashtable_values_are_InvalidPort()
    {
        Refused(new Hashtable { ["8080/tcp"] = 70000 });
        Refused(new Hashtable { ["8080/tcp"] = -1 });
        Refused(new Hashtable { ["abc"] = 22000 });
        Refused(new Hashtable { ["8080/tcp"] = new object[] { "nope", 9000 } });
    }

    [Fact]
    public void Duplicate_host_port_is_InvalidPort()
    {
        var e = Refused("8080:22000", "9090:22000");
        Assert.Contains("22000", e.Message);
        Refused(new Hashtable { ["8080/tcp"] = 22000 }, "9090:22000");
        Refused("127.0.0.1:22000:80", "81:22000");   // 127.0.0.1 is the default address
    }

    [Fact]
    public void Same_host_port_on_other_protocol_or_address_is_allowed()
    {
        Assert.Equal(2, PortSpec.ParseAll(new object[] { "53:22000", "53/udp:22000" }).Count);
        Assert.Equal(2, PortSpec.ParseAll(new object[] { "127.0.0.1:22000:80", "127.0.0.2:22000:81" }).Count);
        Assert.Equal(2, PortSpec.ParseAll(new object[] { "8080", "9090" }).Count);   // two free ports are not a clash
    }
}
