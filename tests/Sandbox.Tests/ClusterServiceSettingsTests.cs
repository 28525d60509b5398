// Docker.DotNet's models declare every property nullable; a null where a value belongs fails the test all the same.
#nullable disable warnings
using Docker.DotNet.Models;
using Sandbox.Cluster;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

public class ClusterServiceSettingsTests
{
    static readonly DateTime Created = new DateTime(2026, 12, 5, 2, 0, 0, DateTimeKind.Utc);

    static SandboxSpec Spec() => new SandboxSpec { Image = "sandbox-local/busybox:latest", TimeoutSec = 60 };

    static ServiceSpec Service(SandboxSpec spec, params string[] constraints) =>
        ServiceSettings.ForSandbox(spec, "sandbox-abc", constraints, Created, TimeSpan.Zero).Service;

    [Fact]
    public void One_replica_never_restarted()
    {
        var service = Service(Spec());
        Assert.Equal("sandbox-abc", service.Name);
        Assert.Equal(1UL, service.Mode.Replicated.Replicas);
        Assert.Null(service.Mode.Global);
        Assert.Equal("none", service.TaskTemplate.RestartPolicy.Condition);
    }

    [Fact]
    public void Reservations_equal_the_limits_so_the_swarm_places_by_capacity()
    {
        var spec = Spec();
        spec.Limits.Memory = 64L << 20;
        spec.Limits.NanoCpus = 100_000_000;
        spec.Limits.PidsLimit = 77;
        var resources = Service(spec).TaskTemplate.Resources;
        Assert.Equal(64L << 20, resources.Limits.MemoryBytes);
        Assert.Equal(100_000_000L, resources.Limits.NanoCPUs);
        Assert.Equal(77L, resources.Limits.Pids);
        Assert.Equal(64L << 20, resources.Reservations.MemoryBytes);
        Assert.Equal(100_000_000L, resources.Reservations.NanoCPUs);
    }

    [Fact]
    public void The_default_limits_are_reserved_too()
    {
        var resources = Service(Spec()).TaskTemplate.Resources;
        Assert.Equal(ResourceLimits.DefaultMemory, resources.Reservations.MemoryBytes);
        Assert.Equal(ResourceLimits.DefaultNanoCpus, resources.Reservations.NanoCPUs);
        Assert.Equal(ResourceLimits.DefaultPidsLimit, resources.Limits.Pids);
    }

    [Fact]
    public void A_memory_reservation_given_is_the_reservation()
    {
        var spec = Spec();
        spec.Limits.MemoryReservation = 32L << 20;
        var resources = Service(spec).TaskTemplate.Resources;
        Assert.Equal(ResourceLimits.DefaultMemory, resources.Limits.MemoryBytes);
        Assert.Equal(32L << 20, resources.Reservations.MemoryBytes);
    }

    [Fact]
    public void The_container_has_the_single_engine_security_defaults()
    {
        var container = Service(Spec()).TaskTemplate.ContainerSpec;
        Assert.Equal(new[] { "ALL" }, container.CapabilityDrop);
        Assert.Equal(ContainerSettings.DefaultCapabilities.Select(c => "CAP_" + c), container.CapabilityAdd);
        Assert.True(container.Privileges.NoNewPrivileges);
        Assert.False(container.Init);      // the deadline guard is PID 1
        Assert.True(container.OpenStdin);
        Assert.Equal(TimeSpan.FromSeconds(1), container.StopGracePeriod);
        Assert.Equal(DeadlineGuard.Entrypoint, container.Command);
        Assert.Equal(DeadlineGuard.Command(SandboxDeadlines.GuardDeadline(60, Created, TimeSpan.Zero)), container.Args);
        Assert.Equal("/workspace", container.Dir);
        Assert.Equal("sandbox-local/busybox:latest", container.Image);
    }

    [Fact]
    public void The_module_labels_are_on_the_service_and_on_its_container()
    {
        var service = Service(Spec());
        foreach (var labels in new[] { service.Labels, service.TaskTemplate.ContainerSpec.Labels })
        {
            Assert.Equal("true", labels[SandboxLabels.Managed]);
            Assert.Equal("true", labels[SandboxLabels.Cluster]);
            Assert.Equal("60", labels[SandboxLabels.Timeout]);
            Assert.Equal(SandboxLabels.ToEpochSeconds(Created.AddSeconds(60)).ToString(), labels[SandboxLabels.Expires]);
            Assert.StartsWith("sandbox-abc-deadline-", labels[SandboxLabels.DeadlineVolume]);
        }
        Assert.Equal(service.Labels[SandboxLabels.DeadlineVolume], service.TaskTemplate.ContainerSpec.Labels[SandboxLabels.DeadlineVolume]);
    }

    [Fact]
    public void The_deadline_volume_is_mounted_read_only_and_labelled_for_the_prune()
    {
        var service = Service(Spec());
        var mount = Assert.Single(service.TaskTemplate.ContainerSpec.Mounts);
        Assert.Equal("volume", mount.Type);
        Assert.Equal(service.Labels[SandboxLabels.DeadlineVolume], mount.Source);
        Assert.Equal(DeadlineGuard.Folder, mount.Target);
        Assert.True(mount.ReadOnly);
        Assert.Equal("true", mount.VolumeOptions.Labels[SandboxLabels.DeadlineVolume]);
    }

    [Fact]
    public void Each_sandbox_gets_its_own_deadline_volume()
    {
        Assert.NotEqual(Service(Spec()).Labels[SandboxLabels.DeadlineVolume], Service(Spec()).Labels[SandboxLabels.DeadlineVolume]);
    }

    [Fact]
    public void Ports_are_published_in_host_mode_and_port_0_lets_the_node_choose()
    {
        var spec = Spec();
        spec.Ports = new List<PortSpec> { new PortSpec { ContainerPort = 8080, HostPort = 18080 }, new PortSpec { ContainerPort = 53, Protocol = "udp" } };
        var ports = Service(spec).EndpointSpec.Ports;
        Assert.Equal(2, ports.Count);
        Assert.All(ports, p => Assert.Equal("host", p.PublishMode));
        Assert.Equal(8080U, ports[0].TargetPort);
        Assert.Equal(18080U, ports[0].PublishedPort);
        Assert.Equal("tcp", ports[0].Protocol);
        Assert.Equal(53U, ports[1].TargetPort);
        Assert.Null(ports[1].PublishedPort);
        Assert.Equal("udp", ports[1].Protocol);
    }

    [Fact]
    public void No_ports_no_endpoint_spec()
    {
        Assert.Null(Service(Spec()).EndpointSpec);
    }

    [Theory]
    [InlineData("bridge")]
    [InlineData("")]
    public void The_default_bridge_is_no_network_attachment(string mode)
    {
        var spec = Spec();
        spec.NetworkMode = mode;
        Assert.Null(Service(spec).TaskTemplate.Networks);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("sandbox-overlay")]
    public void Another_network_is_a_target(string mode)
    {
        var spec = Spec();
        spec.NetworkMode = mode;
        var network = Assert.Single(Service(spec).TaskTemplate.Networks);
        Assert.Equal(mode, network.Target);
    }

    [Fact]
    public void Placement_constraints_are_passed_through_and_none_is_null()
    {
        var placement = Service(Spec(), "node.hostname==sandbox-node2", "node.labels.gpu==true").TaskTemplate.Placement;
        Assert.Equal(new[] { "node.hostname==sandbox-node2", "node.labels.gpu==true" }, placement.Constraints);
        Assert.Null(Service(Spec()).TaskTemplate.Placement.Constraints);
    }

    public static IEnumerable<object[]> LimitsNotOnACluster() => new[]
    {
        new object[] { "memswap_limit", (Action<ResourceLimits>)(l => l.MemorySwap = 2L << 30) },
        new object[] { "mem_swappiness", (Action<ResourceLimits>)(l => l.MemorySwappiness = 10) },
        new object[] { "cpu_quota", (Action<ResourceLimits>)(l => l.CpuQuota = 50_000) },
        new object[] { "cpu_quota", (Action<ResourceLimits>)(l => l.CpuPeriod = 100_000) },
        new object[] { "cpu_shares", (Action<ResourceLimits>)(l => l.CpuShares = 512) },
        new object[] { "cpuset_cpus", (Action<ResourceLimits>)(l => l.CpusetCpus = "0") },
        new object[] { "cpuset_cpus", (Action<ResourceLimits>)(l => l.CpusetMems = "0") },
        new object[] { "shm_size", (Action<ResourceLimits>)(l => l.ShmSize = 1 << 20) },
        new object[] { "blkio_weight", (Action<ResourceLimits>)(l => l.BlkioWeight = 500) },
        new object[] { "oom_kill_disable", (Action<ResourceLimits>)(l => l.OomKillDisable = true) },
        new object[] { "storage_opt", (Action<ResourceLimits>)(l => l.StorageOpt["size"] = "1G") },
    };

    [Theory]
    [MemberData(nameof(LimitsNotOnACluster))]
    public void A_limit_a_service_cannot_set_is_refused(string named, Action<ResourceLimits> set)
    {
        var spec = Spec();
        set(spec.Limits);
        var e = Assert.Throws<SandboxException>(() => Service(spec));
        Assert.Equal("LimitNotOnCluster", e.ErrorId);
        Assert.Equal(SandboxErrorKind.InvalidArgument, e.Kind);
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void Ulimits_are_kept()
    {
        var spec = Spec();
        spec.Limits.Ulimits.Add(new Ulimit { Name = "nofile", Soft = 100, Hard = 200 });
        var ulimit = Assert.Single(Service(spec).TaskTemplate.ContainerSpec.Ulimits);
        Assert.Equal("nofile", ulimit.Name);
        Assert.Null(Service(Spec()).TaskTemplate.ContainerSpec.Ulimits);
    }

    [Fact]
    public void ReadOnly_gives_a_read_only_root_with_a_writable_tmp_and_workspace()
    {
        var spec = Spec();
        spec.ReadOnlyRoot = true;
        var container = Service(spec).TaskTemplate.ContainerSpec;
        Assert.True(container.ReadOnly);
        var tmp = Assert.Single(container.Mounts, m => m.Target == "/tmp");
        Assert.Equal("tmpfs", tmp.Type);
        Assert.Equal(Convert.ToUInt32("1777", 8), (uint)tmp.TmpfsOptions.Mode);
        var workspace = Assert.Single(container.Mounts, m => m.Target == "/workspace");
        Assert.Equal("volume", workspace.Type);
        Assert.NotEqual(true, workspace.ReadOnly);
        Assert.False(Service(Spec()).TaskTemplate.ContainerSpec.ReadOnly);
    }

    [Fact]
    public void Environment_and_user_reach_the_container()
    {
        var spec = Spec();
        spec.Environment = new Dictionary<string, string> { ["A"] = "1", ["B"] = "x=y" };
        spec.User = "1000:1000";
        var container = Service(spec).TaskTemplate.ContainerSpec;
        Assert.Equal(new[] { "A=1", "B=x=y" }, container.Env.OrderBy(e => e));
        Assert.Equal("1000:1000", container.User);
    }

    [Fact]
    public void Mounted_code_is_refused_since_nodes_cannot_mount_this_machines_folders()
    {
        var spec = Spec();
        spec.CodePath = "/src/app";
        spec.CodeAccess = SandboxPathAccess.ReadWrite;
        Assert.Throws<InvalidOperationException>(() => Service(spec));
        spec.CodeAccess = SandboxPathAccess.Copy;
        Assert.Equal("/src/app", Service(spec).Labels[SandboxLabels.CodePath]);
    }
}
