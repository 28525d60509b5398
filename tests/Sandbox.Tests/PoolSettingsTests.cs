using Docker.DotNet.Models;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class PoolSettingsTests
{
    static readonly DockerEndpoint Local = DockerEndpoint.Parse("unix:///var/run/docker.sock");

    static SandboxSpec Spec() => new SandboxSpec
    {
        Image = "sandbox-local/busybox:latest",
        Environment = new Dictionary<string, string> { ["A"] = "1", ["B"] = "2" },
    };

    static string Key(SandboxSpec spec, DockerEndpoint? endpoint = null) => PoolSettings.Key(endpoint ?? Local, spec);

    [Fact]
    public void Same_settings_same_key_whatever_the_timeout()
    {
        var a = Spec();
        var b = Spec();
        b.TimeoutSec = 5;
        Assert.Equal(Key(a), Key(b));
    }

    [Fact]
    public void Environment_order_does_not_matter()
    {
        var a = Spec();
        var b = Spec();
        b.Environment = new Dictionary<string, string> { ["B"] = "2", ["A"] = "1" };
        Assert.Equal(Key(a), Key(b));
    }

    [Fact]
    public void An_image_without_a_tag_is_latest()
    {
        var a = Spec();
        var b = Spec();
        b.Image = "sandbox-local/busybox";
        Assert.Equal(Key(a), Key(b));
        Assert.Equal("localhost:5000/tool:latest", PoolSettings.NormalizeImage("localhost:5000/tool"));
        Assert.Equal("localhost:5000/tool:1.0", PoolSettings.NormalizeImage("localhost:5000/tool:1.0"));
        var digest = "busybox@sha256:" + new string('a', 64);
        Assert.Equal(digest, PoolSettings.NormalizeImage(digest));
    }

    public static IEnumerable<object[]> Differences() => new[]
    {
        new object[] { "image", (Action<SandboxSpec>)(s => s.Image = "sandbox-local/polyglot:bookworm") },
        new object[] { "memory", (Action<SandboxSpec>)(s => s.Limits.Memory = 512L << 20) },
        new object[] { "cpus", (Action<SandboxSpec>)(s => s.Limits.NanoCpus = 500_000_000) },
        new object[] { "pids", (Action<SandboxSpec>)(s => s.Limits.PidsLimit = 50) },
        new object[] { "shm", (Action<SandboxSpec>)(s => s.Limits.ShmSize = 1 << 20) },
        new object[] { "ulimit", (Action<SandboxSpec>)(s => s.Limits.Ulimits.Add(new Ulimit { Name = "nofile", Soft = 10, Hard = 10 })) },
        new object[] { "storage", (Action<SandboxSpec>)(s => s.Limits.StorageOpt["size"] = "1G") },
        new object[] { "network", (Action<SandboxSpec>)(s => s.NetworkMode = "none") },
        new object[] { "user", (Action<SandboxSpec>)(s => s.User = "1000") },
        new object[] { "read-only", (Action<SandboxSpec>)(s => s.ReadOnlyRoot = true) },
        new object[] { "working directory", (Action<SandboxSpec>)(s => s.WorkingDirectory = "/app") },
        new object[] { "env value", (Action<SandboxSpec>)(s => s.Environment["A"] = "one") },
        new object[] { "env name", (Action<SandboxSpec>)(s => s.Environment["C"] = "3") },
        new object[] { "env empty", (Action<SandboxSpec>)(s => s.Environment = new Dictionary<string, string>()) },
        new object[] { "workspace built into the image", (Action<SandboxSpec>)(s => s.BuiltFrom = "/src") },
        new object[] { "workspace mounted read-only", (Action<SandboxSpec>)(s => { s.CodePath = "/src"; s.CodeAccess = SandboxPathAccess.ReadOnly; }) },
    };

    [Theory]
    [MemberData(nameof(Differences))]
    public void Any_container_setting_changes_the_key(string what, Action<SandboxSpec> change)
    {
        var changed = Spec();
        change(changed);
        Assert.False(Key(Spec()) == Key(changed), $"a different {what} must not share a pool");
    }

    [Fact]
    public void Another_engine_is_another_pool()
    {
        Assert.NotEqual(Key(Spec()), Key(Spec(), DockerEndpoint.Parse("unix:///tmp/other.sock")));
        var ssh = DockerEndpoint.Parse("ssh://alice@engine.example.com");
        Assert.NotEqual(Key(Spec(), ssh), Key(Spec(), ssh.WithSshCredentials("bob", null, null)));
    }

    [Fact]
    public void Values_cannot_run_into_each_other()
    {
        var a = Spec();
        a.Environment = new Dictionary<string, string> { ["A"] = "1;3:env:B=2" };
        var b = Spec();
        b.Environment = new Dictionary<string, string> { ["A"] = "1", ["B"] = "2" };
        Assert.NotEqual(Key(a), Key(b));
    }

    [Theory]
    [InlineData("name", "-Name")]
    [InlineData("project", "-ProjectId")]
    [InlineData("path", "-Path")]
    [InlineData("port", "-Port")]
    [InlineData("build", "-Build")]
    public void Settings_fixed_at_creation_bypass_the_pool(string what, string parameter)
    {
        var spec = Spec();
        switch (what)
        {
            case "name": spec.Name = "mine"; break;
            case "project": spec.ProjectId = "p"; break;
            case "path": spec.CodePath = "/src"; break;
            case "port": spec.Ports = PortSpec.ParseAll(new object?[] { 8080 }); break;
            case "build": spec.BuiltFrom = "/src"; break;
        }
        Assert.Equal(parameter, PoolSettings.WhyNotPoolable(spec));
        Assert.Null(PoolSettings.WhyNotPoolable(Spec()));
    }

    [Fact]
    public async System.Threading.Tasks.Task Nothing_is_taken_while_no_pool_runs()
    {
        var (sandbox, failure) = await SandboxPools.TakeAsync(Local, Spec(), default);
        Assert.Null(sandbox);
        Assert.Null(failure);
    }
}
