using Docker.DotNet.Models;
using Sandbox.Lifecycle;
using Xunit;

namespace Sandbox.Tests;

/// <summary>What a Sandbox object says about its workspace, state and time, from the labels the engine keeps.</summary>
public class SandboxObjectTests
{
    static readonly DateTime Created = new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    static Sandbox FromLabels(Dictionary<string, string> labels, string state = "running", string? id = null) =>
        SandboxMapper.FromList(new ContainerListResponse
        {
            ID = id ?? Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N"),
            Names = new List<string> { "/box" },
            Image = "busybox",
            State = state,
            Created = Created,
            Labels = labels,
        }, "unix:///var/run/docker.sock");

    static Sandbox FromSpec(SandboxSpec spec) => FromLabels(SandboxLabels.ForNewSandbox(spec, DateTime.UtcNow));

    [Theory]
    [InlineData(SandboxPathAccess.ReadWrite, WorkspaceModes.MountedReadWrite, "mounted read-write from /home/me/code")]
    [InlineData(SandboxPathAccess.ReadOnly, WorkspaceModes.MountedReadOnly, "mounted read-only from /home/me/code")]
    [InlineData(SandboxPathAccess.Copy, WorkspaceModes.Copied, "copied from /home/me/code")]
    public void A_code_folder_is_described_from_the_labels(SandboxPathAccess access, string mode, string words)
    {
        var sandbox = FromSpec(new SandboxSpec { CodePath = "/home/me/code", CodeAccess = access });
        Assert.Equal(mode, sandbox.WorkspaceMode);
        Assert.Equal(words, sandbox.Workspace);
        Assert.Equal("/home/me/code", sandbox.CodePath);
    }

    [Fact]
    public void No_folder_is_an_empty_workspace_whatever_the_access()
    {
        var sandbox = FromSpec(new SandboxSpec { CodeAccess = SandboxPathAccess.ReadOnly });
        Assert.Equal(WorkspaceModes.Empty, sandbox.WorkspaceMode);
        Assert.Equal("empty", sandbox.Workspace);
        Assert.Null(sandbox.CodePath);
    }

    [Fact]
    public void A_built_folder_is_named_as_the_source()
    {
        var sandbox = FromSpec(new SandboxSpec { BuiltFrom = "/home/me/app" });
        Assert.Equal(WorkspaceModes.Built, sandbox.WorkspaceMode);
        Assert.Equal("built into the image from /home/me/app", sandbox.Workspace);
        Assert.Equal("/home/me/app", sandbox.CodePath);
    }

    [Fact]
    public void The_project_folder_says_so()
    {
        var sandbox = FromSpec(new SandboxSpec { ProjectId = "demo", CodePath = "/here/projects/demo", CodeIsProjectFolder = true });
        Assert.Equal("mounted read-write from /here/projects/demo (the folder of -ProjectId demo)", sandbox.Workspace);
    }

    [Fact]
    public void A_sandbox_without_the_label_is_unknown_not_guessed()
    {
        var labels = SandboxLabels.ForNewSandbox(new SandboxSpec { CodePath = "/old" }, DateTime.UtcNow);
        labels.Remove(SandboxLabels.Workspace);
        var sandbox = FromLabels(labels);
        Assert.Equal(WorkspaceModes.Unknown, sandbox.WorkspaceMode);
        Assert.Contains("/old", sandbox.Workspace);
    }

    [Fact]
    public void A_running_sandbox_reads_as_the_engine_said()
    {
        var sandbox = FromSpec(new SandboxSpec { TimeoutSec = 300 });
        Assert.Equal("running", sandbox.State);
        Assert.Equal("running", sandbox.EngineState);
        Assert.InRange(sandbox.TimeLeftSec!.Value, 290, 301);
    }

    [Fact]
    public void A_sandbox_past_its_deadline_reads_expired_with_no_time_left()
    {
        var sandbox = FromLabels(SandboxLabels.ForNewSandbox(new SandboxSpec { TimeoutSec = 5 }, DateTime.UtcNow.AddMinutes(-1)));
        Assert.Equal("expired", sandbox.State);
        Assert.Equal("running", sandbox.EngineState);
        Assert.Equal(TimeSpan.Zero, sandbox.TimeLeft);
        Assert.Equal(0, sandbox.TimeLeftSec);
    }

    [Fact]
    public void A_deadline_that_could_not_be_read_is_not_called_expired()
    {
        var sandbox = FromLabels(SandboxLabels.ForNewSandbox(new SandboxSpec { TimeoutSec = 5 }, DateTime.UtcNow.AddMinutes(-1)));
        sandbox.DeadlineUnknown = true;
        Assert.Equal("running", sandbox.State);
    }

    [Fact]
    public void No_deadline_is_no_time_left_to_count()
    {
        var sandbox = FromSpec(new SandboxSpec { TimeoutSec = 0 });
        Assert.Null(sandbox.TimeLeft);
        Assert.Null(sandbox.TimeLeftSec);
        Assert.Equal("running", sandbox.State);
    }

    [Fact]
    public void Every_object_of_a_removed_sandbox_reads_removed_with_zero_time_left()
    {
        var id = Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
        var labels = SandboxLabels.ForNewSandbox(new SandboxSpec { TimeoutSec = 0 }, DateTime.UtcNow);
        var mine = FromLabels(labels, id: id);
        var listed = FromLabels(labels, id: id);
        Assert.Equal("running", mine.State);
        Assert.Null(mine.TimeLeft);

        SandboxRemover.MarkRemoved(id);
        foreach (var sandbox in new[] { mine, listed })
        {
            Assert.Equal("removed", sandbox.State);
            Assert.Equal("running", sandbox.EngineState);
            Assert.Equal(TimeSpan.Zero, sandbox.TimeLeft);
            Assert.Equal(0, sandbox.TimeLeftSec);
        }
    }

    [Theory]
    [InlineData("hi\n", "hi")]
    [InlineData("a\nb\n", "a\nb")]
    [InlineData("a\r\n\r\n", "a")]
    [InlineData("  spaced  \n", "  spaced  ")]
    [InlineData("", "")]
    public void A_result_in_a_string_has_no_line_ending_at_the_end(string stdout, string text)
    {
        var result = new SandboxCommandResult { StdOut = stdout };
        Assert.Equal(text, result.ToString());
        Assert.Equal(stdout, result.StdOut);
    }

    [Fact]
    public void Duration_in_seconds_to_the_millisecond()
    {
        var result = new SandboxCommandResult { Duration = TimeSpan.FromTicks(12_345_678) };
        Assert.Equal(1.235, result.DurationSec);
    }
}
