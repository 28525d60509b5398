using Docker.DotNet.Models;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class ImageReferenceTests
{
    [Theory]
    [InlineData("busybox")]
    [InlineData("sandbox-local/busybox:latest")]
    [InlineData("gitpod/workspace-full:latest")]
    [InlineData("python:3.12-slim")]
    [InlineData("registry.example.com/team/tool:1.0")]
    [InlineData("Registry.Example.com/team/tool")]   // host names are case-insensitive
    [InlineData("localhost:5000/x")]
    [InlineData("my_image__x")]
    [InlineData("x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void Valid_references(string image)
    {
        ImageReference.Validate(image);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("UPPER/Case")]
    [InlineData("Busybox")]
    [InlineData("busybox:")]
    [InlineData("a b")]
    [InlineData("-leading")]
    [InlineData("x@sha256:123")]
    // Docker reads the first component as a registry only when it has a '.' or ':' or is 'localhost';
    // otherwise it is a repository path component and must be lower case ("repository name must be lowercase").
    [InlineData("Team/tool")]
    [InlineData("MyOrg/busybox:latest")]
    public void Invalid_references(string image)
    {
        var e = Assert.Throws<SandboxException>(() => ImageReference.Validate(image));
        Assert.Equal("InvalidImageReference", e.ErrorId);
        Assert.Equal(SandboxErrorKind.InvalidArgument, e.Kind);
    }
}

public class SandboxNameTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("sandbox-1")]
    [InlineData("My.Box_2")]
    public void Valid_names(string name) => SandboxNames.Validate(name);

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("-dash")]
    [InlineData("_under")]
    [InlineData("a/b")]
    public void Invalid_names(string name)
    {
        Assert.Equal("InvalidSandboxName", Assert.Throws<SandboxException>(() => SandboxNames.Validate(name)).ErrorId);
    }

    [Fact]
    public void Too_long_name()
    {
        SandboxNames.Validate(new string('a', 128));
        Assert.Throws<SandboxException>(() => SandboxNames.Validate(new string('a', 129)));
    }

    [Fact]
    public void Generated_names_are_valid_and_unique()
    {
        var plain = SandboxNames.New(null);
        Assert.Matches("^sandbox-[0-9a-f]{8}$", plain);
        Assert.NotEqual(plain, SandboxNames.New(null));
        var project = SandboxNames.New("My Project!");
        Assert.Matches("^sandbox-My-Project-[0-9a-f]{4}$", project);
        SandboxNames.Validate(project);
        SandboxNames.Validate(SandboxNames.New(new string('x', 100)));
        Assert.Matches("^sandbox-[0-9a-f]{8}$", SandboxNames.New("!!!"));
    }
}

public class SandboxMapperTests
{
    static Dictionary<string, string> Labels(DateTime created, int timeout) => SandboxLabels.ForNewSandbox(
        new SandboxSpec { TimeoutSec = timeout, ProjectId = "p1", CodePath = "/code", WorkingDirectory = "/work", NetworkMode = "none" }, created);

    [Fact]
    public void From_list()
    {
        var created = new DateTime(2025, 3, 4, 5, 6, 7, DateTimeKind.Utc);
        var c = new ContainerListResponse
        {
            ID = new string('a', 64),
            Names = new List<string> { "/box" },
            Image = "busybox",
            State = "running",
            Created = created,
            Labels = Labels(created, 60),
            Ports = new List<PortSummary>
            {
                new() { IP = "127.0.0.1", PrivatePort = 8080, PublicPort = 22000, Type = "tcp" },
                new() { PrivatePort = 9090, Type = "tcp" },   // exposed, not published
                new() { IP = "::1", PrivatePort = 80, PublicPort = 22001, Type = "tcp" },
                new() { IP = "0.0.0.0", PrivatePort = 80, PublicPort = 22001, Type = "tcp" },
            },
        };
        var s = SandboxMapper.FromList(c, "unix:///var/run/docker.sock");
        Assert.Equal("box", s.Name);
        Assert.Equal(new string('a', 12), s.ShortId);
        Assert.Equal("p1", s.ProjectId);
        Assert.Equal("/work", s.WorkingDirectory);
        Assert.Equal("/code", s.CodePath);
        Assert.Equal("none", s.NetworkMode);
        Assert.Equal(created, s.CreatedAt);
        Assert.Equal(created.AddSeconds(61), s.ExpiresAt);
        Assert.Equal(60, s.TimeoutSec);
        Assert.Equal(1L << 30, s.Limits.MemoryBytes);
        Assert.Equal(1.0, s.Limits.Cpus);
        Assert.Equal(100L, s.Limits.PidsLimit);
        Assert.Equal("unix:///var/run/docker.sock", s.DockerHost);
        Assert.Equal(2, s.Ports.Length);
        Assert.Equal(80, s.Ports[0].ContainerPort);
        Assert.Equal("0.0.0.0", s.Ports[0].HostIp);   // the IPv4 binding is preferred over its IPv6 twin
        Assert.Equal("http://localhost:22001", s.Ports[0].Url);
        Assert.Equal("http://127.0.0.1:22000", s.Ports[1].Url);
    }

    [Fact]
    public void From_inspect()
    {
        var created = DateTime.UtcNow;
        var c = new ContainerInspectResponse
        {
            ID = new string('b', 64),
            Name = "/inspected",
            Image = "sha256:abc",
            Created = created,
            Config = new ContainerConfig { Image = "busybox:latest", Labels = Labels(created, 0) },
            State = new State { Status = "running" },
            NetworkSettings = new NetworkSettings
            {
                Ports = new Dictionary<string, IList<PortBinding>>
                {
                    ["8080/tcp"] = new List<PortBinding> { new() { HostIP = "127.0.0.1", HostPort = "22000" } },
                    ["53/udp"] = new List<PortBinding> { new() { HostIP = "", HostPort = "22002" } },
                    ["9090/tcp"] = null!,
                },
            },
        };
        var s = SandboxMapper.FromInspect(c, "tcp://h:2376");
        Assert.Equal("inspected", s.Name);
        Assert.Equal("busybox:latest", s.Image);
        Assert.Null(s.ExpiresAt);
        Assert.Null(s.TimeLeft);
        Assert.False(s.IsExpired);
        Assert.Equal(new[] { 53, 8080 }, s.Ports.Select(p => p.ContainerPort));
        Assert.Equal("udp", s.Ports[0].Protocol);
        Assert.Null(s.Ports[0].Url);
        Assert.Equal("0.0.0.0", s.Ports[0].HostIp);
        Assert.Equal(22000, s.Ports[1].HostPort);
    }

    [Fact]
    public void Expired_sandbox()
    {
        var created = DateTime.UtcNow.AddMinutes(-10);
        var s = SandboxMapper.FromList(new ContainerListResponse { ID = "x", Names = new List<string> { "/x" }, Created = created, Labels = Labels(created, 60) }, "h");
        Assert.True(s.IsExpired);
        Assert.Equal(TimeSpan.Zero, s.TimeLeft);
    }
}
