using System.Linq;
using Sandbox.Endpoints;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class EngineRuntimesTests
{
    static readonly DockerEndpoint Local = DockerEndpoint.Parse("unix:///var/run/docker.sock");

    static SandboxSpec Spec(string? runtime = null) => new SandboxSpec { Image = "sandbox-local/busybox:latest", Runtime = runtime };

    [Fact]
    public void The_runtime_is_part_of_the_pool_key()
    {
        Assert.NotEqual(PoolSettings.Key(Local, Spec()), PoolSettings.Key(Local, Spec("runsc")));
        Assert.Equal(PoolSettings.Key(Local, Spec("runsc")), PoolSettings.Key(Local, Spec("runsc")));
    }

    [Fact]
    public void The_container_asks_for_the_runtime_and_is_labelled_with_it()
    {
        var create = ContainerSettings.ForSandbox(Spec("runsc"), "sb", System.DateTime.UtcNow, System.TimeSpan.Zero);
        Assert.Equal("runsc", create.HostConfig.Runtime);
        Assert.Equal("runsc", create.Labels[SandboxLabels.Runtime]);
    }

    [Fact]
    public void Without_a_runtime_the_engine_default_is_used_and_no_label_is_written()
    {
        var create = ContainerSettings.ForSandbox(Spec(), "sb", System.DateTime.UtcNow, System.TimeSpan.Zero);
        Assert.True(string.IsNullOrEmpty(create.HostConfig.Runtime));
        // Every io.sandbox.* key is written (empty shadows a label a snapshot image would pass on); empty means absent.
        Assert.False(SandboxLabels.Effective(new System.Collections.Generic.Dictionary<string, string>(create.Labels)).ContainsKey(SandboxLabels.Runtime));
        Assert.DoesNotContain(create.HostConfig.Mounts, m => m.Target == "/tmp");
    }

    [Fact]
    public void Under_a_runtime_with_its_own_kernel_tmp_is_a_volume()
    {
        var create = ContainerSettings.ForSandbox(Spec("runsc"), "sb", System.DateTime.UtcNow, System.TimeSpan.Zero);
        Assert.Single(create.HostConfig.Mounts.Where(m => m.Target == "/tmp" && m.Type == "volume"));
        Assert.False(EngineRuntimes.KeepsTmpInside("runc"));
        Assert.False(EngineRuntimes.KeepsTmpInside("io.containerd.runc.v2"));
        Assert.True(EngineRuntimes.KeepsTmpInside("runsc"));
    }

    [Fact]
    public void Under_a_runtime_with_its_own_kernel_the_engine_s_pids_limit_leaves_room_for_that_kernel()
    {
        var gvisor = ContainerSettings.ForSandbox(Spec("runsc"), "sb", System.DateTime.UtcNow, System.TimeSpan.Zero);
        Assert.Equal(ResourceLimits.DefaultPidsLimit * EngineRuntimes.OwnKernelHostPidsEach + EngineRuntimes.OwnKernelHostPidsBase, gvisor.HostConfig.PidsLimit);
        Assert.Equal(ResourceLimits.DefaultPidsLimit.ToString(System.Globalization.CultureInfo.InvariantCulture), gvisor.Labels[SandboxLabels.PidsLimit]);
        var runc = ContainerSettings.ForSandbox(Spec(), "sb", System.DateTime.UtcNow, System.TimeSpan.Zero);
        Assert.Equal(ResourceLimits.DefaultPidsLimit, runc.HostConfig.PidsLimit);
        Assert.Equal(-1, EngineRuntimes.HostPidsLimit(-1, "runsc"));
        Assert.Null(EngineRuntimes.HostPidsLimit(null, "runsc"));
    }

    [Theory]
    [InlineData("run sc")]
    [InlineData("-runsc")]
    [InlineData("runsc;rm")]
    public void A_name_that_cannot_be_a_runtime_is_refused(string name) =>
        Assert.Equal("InvalidRuntime", Assert.Throws<SandboxException>(() => EngineRuntimes.Validate(name)).ErrorId);

    [Fact]
    public void A_cluster_refuses_a_runtime()
    {
        var cluster = Local.AsCluster();
        Assert.Equal("RuntimeNotOnCluster", Assert.Throws<SandboxException>(() => EngineRuntimes.RefuseOnCluster("runsc", cluster)).ErrorId);
        EngineRuntimes.RefuseOnCluster(null, cluster);
        EngineRuntimes.RefuseOnCluster("runsc", Local);
    }
}
