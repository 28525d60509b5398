using Docker.DotNet.Models;
using Sandbox.Cluster;
using Xunit;

namespace Sandbox.Tests;

public class ClusterSwarmTasksTests
{
    [Theory]
    [InlineData(TaskState.Running, false, "running")]
    [InlineData(TaskState.New, false, "created")]
    [InlineData(TaskState.Pending, false, "created")]
    [InlineData(TaskState.Assigned, false, "created")]
    [InlineData(TaskState.Starting, false, "created")]
    [InlineData(TaskState.Complete, false, "exited")]
    [InlineData(TaskState.Failed, false, "exited")]
    [InlineData(TaskState.Shutdown, false, "exited")]
    [InlineData(TaskState.Rejected, false, "exited")]
    [InlineData(TaskState.Orphaned, false, "exited")]
    [InlineData(TaskState.Running, true, "lost")]     // a dead node's tasks keep saying "running"
    [InlineData(TaskState.Complete, true, "lost")]
    public void The_engine_state_of_a_task(TaskState state, bool nodeDown, string expected)
    {
        Assert.Equal(expected, SwarmTasks.EngineState(state, nodeDown));
    }

    [Fact]
    public void A_task_with_no_state_yet_is_created()
    {
        Assert.Equal("created", SwarmTasks.EngineState(null, false));
        Assert.False(SwarmTasks.HasEnded(null));
        Assert.False(SwarmTasks.IsStarting(null));
        Assert.Equal("unknown", SwarmTasks.Name(null));
        Assert.Equal("running", SwarmTasks.Name(TaskState.Running));
    }

    [Fact]
    public void Only_states_a_task_never_leaves_have_ended_and_only_those_before_running_are_starting()
    {
        var ended = new[] { TaskState.Complete, TaskState.Failed, TaskState.Shutdown, TaskState.Rejected, TaskState.Orphaned, TaskState.Remove };
        foreach (var state in Enum.GetValues<TaskState>())
        {
            Assert.Equal(ended.Contains(state), SwarmTasks.HasEnded(state));
            Assert.Equal(state < TaskState.Running, SwarmTasks.IsStarting(state));
        }
        Assert.True(SwarmTasks.IsStarting(TaskState.Pending));
        Assert.False(SwarmTasks.IsStarting(TaskState.Running));
    }

    static NodeListResponse Node(string? state, string? address = "10.213.0.12", string? managerAddress = null) => new NodeListResponse
    {
        ID = "id",
        Status = new NodeStatus { State = state, Addr = address },
        ManagerStatus = managerAddress == null ? null : new ManagerStatus { Addr = managerAddress },
    };

    [Theory]
    [InlineData("ready", false)]
    [InlineData("unknown", false)]
    [InlineData("down", true)]
    [InlineData("Down", true)]
    [InlineData("disconnected", true)]
    public void A_node_is_down_when_the_swarm_says_down_or_disconnected(string state, bool down)
    {
        Assert.Equal(down, SwarmTasks.IsDown(Node(state)));
    }

    [Fact]
    public void A_node_gone_from_the_swarm_is_down()
    {
        Assert.True(SwarmTasks.IsDown(null));
    }

    [Theory]
    [InlineData("10.213.0.12", null, "10.213.0.12")]
    [InlineData("0.0.0.0", "10.213.0.11:2377", "10.213.0.11")]
    [InlineData("", "10.213.0.11:2377", "10.213.0.11")]
    [InlineData(null, "10.213.0.11:2377", "10.213.0.11")]
    [InlineData("0.0.0.0", "[fd00::11]:2377", "fd00::11")]
    [InlineData("10.213.0.11", "10.213.0.99:2377", "10.213.0.11")]     // a real Status.Addr wins
    [InlineData(null, null, "")]
    public void The_address_of_a_node(string? status, string? manager, string expected)
    {
        Assert.Equal(expected, SwarmTasks.AddressOf(Node("ready", status, manager)));
    }

    [Fact]
    public void A_container_is_a_task_when_the_engine_labelled_it_with_its_service()
    {
        Assert.True(SwarmTasks.IsTaskContainer((IDictionary<string, string>)new Dictionary<string, string> { [SwarmTasks.ServiceIdLabel] = "svc" }));
        Assert.False(SwarmTasks.IsTaskContainer((IDictionary<string, string>)new Dictionary<string, string> { ["io.sandbox.managed"] = "true" }));
        Assert.False(SwarmTasks.IsTaskContainer((IDictionary<string, string>?)null));
    }
}
