using Sandbox.Endpoints;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

/// <summary>The single-engine rules (names, pool keys, the sweep) as they apply to cluster sandboxes.</summary>
public class ClusterSandboxRulesTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("sandbox-abc123")]
    [InlineData("My_Sandbox-2")]
    [InlineData("0leading-digit")]
    public void Service_names_letters_digits_underscore_and_dash(string name)
    {
        SandboxNames.ValidateForService(name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-leading-dash")]
    [InlineData("trailing-dash-")]
    [InlineData("has.dot")]
    [InlineData("has space")]
    [InlineData("has/slash")]
    [InlineData("name\n")]
    public void Other_names_cannot_name_a_service(string name)
    {
        var e = Assert.Throws<SandboxException>(() => SandboxNames.ValidateForService(name));
        Assert.Equal("InvalidSandboxName", e.ErrorId);
        Assert.Equal(SandboxErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void Service_names_are_at_most_63_characters()
    {
        SandboxNames.ValidateForService(new string('a', 63));
        Assert.Throws<SandboxException>(() => SandboxNames.ValidateForService(new string('a', 64)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("my project/with.odd chars")]
    [InlineData("v1.2.3")]
    [InlineData("a..b__c--d")]
    [InlineData("____")]
    public void Generated_names_are_valid_service_names_once_the_swarm_backend_replaces_dots(string? projectId)
    {
        // SandboxNames.New keeps dots (valid in a container name); SwarmBackend makes them dashes.
        SandboxNames.ValidateForService(SandboxNames.New(projectId).Replace('.', '-'));
        SandboxNames.ValidateForService(SandboxNames.New(projectId + new string('x', 80)).Replace('.', '-'));
    }

    static SandboxSpec Spec() => new SandboxSpec { Image = "sandbox-local/busybox:latest" };

    [Fact]
    public void A_pool_on_a_cluster_is_not_a_pool_on_the_same_managers_engine()
    {
        var engine = DockerEndpoint.Parse("tcp://10.213.0.11:2376", "-DockerHost", "/certs", true);
        Assert.NotEqual(PoolSettings.Key(engine, Spec()), PoolSettings.Key(engine.AsCluster(), Spec()));
        Assert.Equal(PoolSettings.Key(engine.AsCluster(), Spec()), PoolSettings.Key(engine.AsCluster(), Spec()));
    }

    [Fact]
    public void Placement_constraints_are_part_of_the_pool_key_in_any_order()
    {
        var cluster = DockerEndpoint.Parse("tcp://10.213.0.11:2376", "-Cluster", "/certs", true).AsCluster();
        var none = Spec();
        var node2 = Spec();
        node2.PlacementConstraints.Add("node.hostname==sandbox-node2");
        var node3 = Spec();
        node3.PlacementConstraints.Add("node.hostname==sandbox-node3");
        Assert.NotEqual(PoolSettings.Key(cluster, none), PoolSettings.Key(cluster, node2));
        Assert.NotEqual(PoolSettings.Key(cluster, node2), PoolSettings.Key(cluster, node3));

        var ab = Spec();
        ab.PlacementConstraints.Add("node.role==worker");
        ab.PlacementConstraints.Add("node.labels.gpu==true");
        var ba = Spec();
        ba.PlacementConstraints.Add("node.labels.gpu==true");
        ba.PlacementConstraints.Add("node.role==worker");
        Assert.Equal(PoolSettings.Key(cluster, ab), PoolSettings.Key(cluster, ba));
    }

    static Sandbox Made(string? cluster, string engineState, DateTime? expiresAt = null) => new Sandbox
    {
        Id = Guid.NewGuid().ToString("n"),
        Cluster = cluster,
        EngineState = engineState,
        ExpiresAt = expiresAt ?? DateTime.UtcNow.AddMinutes(5),
    };

    [Theory]
    [InlineData("running", false)]
    [InlineData("created", false)]
    [InlineData("exited", true)]     // the task ended; the service stays until removed
    [InlineData("lost", true)]       // its node is down
    public void The_sweep_removes_a_cluster_sandbox_whose_task_ended_or_whose_node_is_down(string state, bool over)
    {
        Assert.Equal(over, SandboxDeadlines.IsOver(Made("tcp://10.213.0.11:2376", state)));
    }

    [Theory]
    [InlineData("exited")]
    [InlineData("created")]
    [InlineData("running")]
    public void On_one_engine_only_the_deadline_counts(string state)
    {
        Assert.False(SandboxDeadlines.IsOver(Made(null, state)));
        Assert.True(SandboxDeadlines.IsOver(Made(null, state, DateTime.UtcNow.AddSeconds(-1))));
    }

    [Fact]
    public void A_passed_deadline_ends_a_cluster_sandbox_too_unless_it_is_unknown()
    {
        var sandbox = Made("tcp://10.213.0.11:2376", "running", DateTime.UtcNow.AddSeconds(-1));
        Assert.True(SandboxDeadlines.IsOver(sandbox));
        sandbox.DeadlineUnknown = true;
        Assert.False(SandboxDeadlines.IsOver(sandbox));
    }
}
