using System.Collections.Generic;
using Docker.DotNet.Models;
using Sandbox.Observe;
using Xunit;

namespace Sandbox.Tests;

public class EventKindsTests
{
    [Theory]
    [InlineData("create", null, "created")]
    [InlineData("start", null, "started")]
    [InlineData("exec_start: /bin/sh -c echo hi", null, "command")]
    [InlineData("oom", null, "oom")]
    [InlineData("die", 137, "died")]
    [InlineData("die", 1, "died")]
    [InlineData("die", null, "died")]
    [InlineData("die", 0, "expired")]
    [InlineData("destroy", null, "removed")]
    [InlineData("pause", null, "suspended")]
    [InlineData("unpause", null, "resumed")]
    [InlineData("commit", null, "snapshot")]
    public void KindOf_names_the_engines_action(string action, int? exitCode, string expected)
    {
        Assert.Equal(expected, EventKinds.KindOf(action, exitCode));
    }

    [Theory]
    [InlineData("kill")]
    [InlineData("exec_create: sh")]
    [InlineData("exec_die")]
    [InlineData("attach")]
    [InlineData("")]
    [InlineData(null)]
    public void KindOf_leaves_out_what_the_module_does_not_show(string? action)
    {
        Assert.Null(EventKinds.KindOf(action, null));
    }

    [Fact]
    public void Every_engine_action_asked_for_has_a_kind()
    {
        foreach (var action in EventKinds.EngineActions) Assert.NotNull(EventKinds.KindOf(action, 1));
    }

    static Message Container(string action, Dictionary<string, string> attributes, long timeNano = 1_767_225_600_123_456_789) => new()
    {
        Type = "container", Action = action, TimeNano = timeNano, Time = timeNano / 1_000_000_000,
        Actor = new Actor { ID = "0123456789abcdef", Attributes = attributes },
    };

    [Fact]
    public void ToEvent_gives_the_command_of_exec_start()
    {
        var e = EventKinds.ToEvent(Container("exec_start: /bin/sh -c echo hi", new() { ["name"] = "box", ["execID"] = "x" }), "unix:///var/run/docker.sock")!;
        Assert.Equal("command", e.Kind);
        Assert.Equal("exec_start", e.Action);
        Assert.Equal("/bin/sh -c echo hi", e.Detail);
        Assert.Equal("box", e.Name);
        Assert.Equal("0123456789ab", e.ShortId);
        Assert.Equal("unix:///var/run/docker.sock", e.DockerHost);
        Assert.Null(e.ExitCode);
        Assert.Equal(new System.DateTime(2026, 1, 1, 0, 0, 0, System.DateTimeKind.Utc).AddTicks(1_234_567), e.Time);
    }

    [Fact]
    public void ToEvent_gives_the_exit_code_of_a_death_and_calls_zero_expired()
    {
        var died = EventKinds.ToEvent(Container("die", new() { ["name"] = "box", ["exitCode"] = "137" }), "h")!;
        Assert.Equal(("died", 137, "exit code 137"), (died.Kind, died.ExitCode, died.Detail));
        var expired = EventKinds.ToEvent(Container("die", new() { ["name"] = "box", ["exitCode"] = "0" }), "h")!;
        Assert.Equal(("expired", 0, "exit code 0"), (expired.Kind, expired.ExitCode, expired.Detail));
    }

    [Fact]
    public void ToEvent_calls_a_kill_in_the_seconds_after_the_labelled_deadline_expired_and_one_before_it_died()
    {
        // 2026-01-01T00:00:01.123Z; the deadline label says 00:00:00 (whole seconds, cut down).
        var labels = new Dictionary<string, string> { ["name"] = "box", ["exitCode"] = "137", ["io.sandbox.expires"] = "1767225600" };
        Assert.Equal("expired", EventKinds.ToEvent(Container("die", labels), "h")!.Kind);
        Assert.Equal("died", EventKinds.ToEvent(Container("die", labels, timeNano: 1_767_225_599_000_000_000), "h")!.Kind);
        Assert.Equal("died", EventKinds.ToEvent(Container("die", labels, timeNano: 1_767_225_607_000_000_000), "h")!.Kind);
    }

    [Fact]
    public void ToEvent_gives_the_image_of_a_snapshot()
    {
        var e = EventKinds.ToEvent(Container("commit", new() { ["name"] = "box", ["imageID"] = "sha256:1", ["imageRef"] = "snap:latest" }), "h")!;
        Assert.Equal(("snapshot", "snap:latest"), (e.Kind, e.Detail));
    }

    [Fact]
    public void ToEvent_takes_seconds_when_the_engine_gives_no_nanoseconds()
    {
        var message = Container("start", new() { ["name"] = "box" });
        message.TimeNano = null;
        Assert.Equal(new System.DateTime(2026, 1, 1, 0, 0, 0, System.DateTimeKind.Utc), EventKinds.ToEvent(message, "h")!.Time);
    }

    [Fact]
    public void ToEvent_leaves_out_other_types_and_actions()
    {
        Assert.Null(EventKinds.ToEvent(new Message { Type = "image", Action = "pull", Actor = new Actor { ID = "i", Attributes = new Dictionary<string, string>() } }, "h"));
        Assert.Null(EventKinds.ToEvent(Container("kill", new() { ["signal"] = "9" }), "h"));
    }

    [Fact]
    public void Stamp_is_unix_seconds_with_nanoseconds()
    {
        Assert.Equal("1767225600.123456700", EventReader.Stamp(new System.DateTime(2026, 1, 1, 0, 0, 0, System.DateTimeKind.Utc).AddTicks(1_234_567)));
        Assert.Equal("0.000000000", EventReader.Stamp(new System.DateTime(1960, 1, 1, 0, 0, 0, System.DateTimeKind.Utc)));
    }
}
